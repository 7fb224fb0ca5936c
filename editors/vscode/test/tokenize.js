// Tokenize .ship files with VS Code's own TextMate engine (vscode-textmate +
// vscode-oniguruma) and the extension's grammar; print each token and its
// scopes (the outermost `source.ship` left out), for snapshot tests.
// Usage: NODE_PATH=<modules> node tokenize.js FILE...
'use strict';
const fs = require('fs');
const path = require('path');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm')).buffer;
const onigLib = oniguruma.loadWASM(wasm).then(() => ({
  createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
  createOnigString: (s) => new oniguruma.OnigString(s),
}));

const registry = new vsctm.Registry({
  onigLib,
  loadGrammar: async (scopeName) => {
    if (scopeName !== 'source.ship') return null;
    const file = path.join(__dirname, '..', 'syntaxes', 'ship.tmLanguage.json');
    return vsctm.parseRawGrammar(fs.readFileSync(file, 'utf8'), file);
  },
});

(async () => {
  const grammar = await registry.loadGrammar('source.ship');
  for (const file of process.argv.slice(2)) {
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    let stack = vsctm.INITIAL;
    const out = [];
    lines.forEach((line, i) => {
      const r = grammar.tokenizeLine(line, stack);
      for (const t of r.tokens) {
        const text = line.substring(t.startIndex, t.endIndex);
        if (!text.trim()) continue;
        const scopes = t.scopes.filter((s) => s !== 'source.ship').join(' ');
        out.push(`${i + 1}:${t.startIndex + 1} ${JSON.stringify(text)} ${scopes || '-'}`);
      }
      stack = r.ruleStack;
    });
    process.stdout.write(`== ${path.basename(path.dirname(path.dirname(file)))}/${path.basename(file)}\n${out.join('\n')}\n`);
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
