// Validate the documents of CRDs kubernetes-validate has no schema for —
// the Gateway API (gateway.networking.k8s.io, @kubernetes-models/gateway-api)
// and External Secrets (external-secrets.io, @kubernetes-models/external-secrets)
// — in YAML files, against the schemas generated from their CRDs. Other
// documents are skipped.
// Usage: node crd-validate.mjs FILE...
// Exit 0: every such document valid; 1: an invalid document or an unknown
// kind or version; 2: unreadable or unparsable YAML.
import fs from 'node:fs';
import yaml from 'js-yaml';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: crd-validate FILE...');
  process.exit(2);
}
const PACKAGES = {
  'gateway.networking.k8s.io': '@kubernetes-models/gateway-api',
  'external-secrets.io': '@kubernetes-models/external-secrets',
};
let failed = 0, checked = 0, parseError = false;
for (const file of files) {
  let docs;
  try {
    docs = yaml.loadAll(fs.readFileSync(file, 'utf8')).filter((d) => d != null);
  } catch (e) {
    console.error(`ERROR ${file}: cannot read/parse YAML: ${e.message}`);
    parseError = true;
    continue;
  }
  for (const [i, doc] of docs.entries()) {
    const where = `${file}#${i}`;
    const apiVersion = String(doc.apiVersion ?? ''), kind = String(doc.kind ?? '');
    const m = /^(gateway\.networking\.k8s\.io|external-secrets\.io)\/(v[0-9a-z]+)$/.exec(apiVersion);
    if (!m) continue;
    const pkg = PACKAGES[m[1]];
    let mod;
    try {
      mod = await import(`${pkg}/${m[1]}/${m[2]}`);
    } catch {
      console.error(`ERROR ${where}: unknown ${m[1]} version ${apiVersion}`);
      failed++;
      continue;
    }
    const Model = mod[kind];
    if (typeof Model !== 'function') {
      console.error(`ERROR ${where}: unknown kind ${kind} in ${apiVersion}`);
      failed++;
      continue;
    }
    checked++;
    try {
      new Model(doc).validate();
      console.log(`OK ${where}: ${apiVersion} ${kind}/${doc.metadata?.name ?? '?'}`);
    } catch (e) {
      failed++;
      const details = Array.isArray(e.errors)
        ? e.errors.map((x) => `${x.instancePath || '/'} ${x.message}`).join('; ') : e.message;
      console.error(`ERROR ${where}: ${apiVersion} ${kind}: ${details}`);
    }
  }
}
console.log(`${checked} CRD document(s) checked, ${failed} error(s)`);
process.exitCode = parseError ? 2 : failed ? 1 : 0;
