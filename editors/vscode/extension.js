// The Ship extension: formatting through `shipc fmt --stdin`, and the
// language server `shipc lsp` when the shipc binary found has it.
'use strict';
const vscode = require('vscode');
const { execFile, spawnSync } = require('child_process');

let client;

function shipc() {
  return vscode.workspace.getConfiguration('ship').get('path') || 'shipc';
}

/** Whether the binary runs, and whether it has a language server. */
function probe(bin) {
  const r = spawnSync(bin, ['--help'], { encoding: 'utf8', timeout: 5000 });
  if (r.error || r.status !== 0) return { found: false, lsp: false };
  return { found: true, lsp: /^\s+lsp\s/m.test(r.stdout) };
}

function activate(context) {
  const bin = shipc();
  const found = probe(bin);
  context.subscriptions.push(
    vscode.languages.registerDocumentFormattingEditProvider('ship', {
      provideDocumentFormattingEdits(document) {
        return new Promise((resolve) => {
          const child = execFile(bin, ['fmt', '--stdin'], { maxBuffer: 64 << 20 }, (err, stdout) => {
            // A syntax error: leave the text as it is (shipc prints why).
            if (err) return resolve([]);
            const all = new vscode.Range(document.positionAt(0), document.positionAt(document.getText().length));
            resolve([vscode.TextEdit.replace(all, stdout)]);
          });
          child.stdin.end(document.getText());
        });
      },
    }),
  );
  if (!found.found) {
    vscode.window.setStatusBarMessage(`Ship: \`${bin}\` not found; highlighting only`, 5000);
    return;
  }
  if (!found.lsp || !vscode.workspace.getConfiguration('ship').get('languageServer')) return;
  const { LanguageClient, TransportKind } = require('vscode-languageclient/node');
  client = new LanguageClient(
    'ship',
    'Ship language server',
    { command: bin, args: ['lsp'], transport: TransportKind.stdio },
    { documentSelector: [{ scheme: 'file', language: 'ship' }] },
  );
  client.start();
  context.subscriptions.push({ dispose: () => client && client.stop() });
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
