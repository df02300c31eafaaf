#!/usr/bin/env node
// Offline Kubernetes API schema check of rendered manifests.
//
//   node tests/deploy/k8s_schema_check.js FILE.yaml [FILE.yaml ...]
//
// Every document is validated twice, with no network:
//  1. against the Kubernetes OpenAPI schema (types, required fields, enums,
//     formats) compiled into the npm package `kubernetes-models` (pinned in
//     package.json; install with `npm ci --prefix tests/deploy`);
//  2. strictly, like `kubeconform -strict`: a field the API does not define
//     (a typo such as `livenesProbe`) is an error. The field lists come from
//     the same package's type declarations (*.d.ts), which are generated from
//     the same OpenAPI document.
// A kind the package does not know is an error, not a skip.
// Exit status: 0 all valid, 1 some document invalid, 2 usage or setup error.
'use strict';

const fs = require('fs');
const path = require('path');

let YAML;
let modelsRoot;
try {
  YAML = require('yaml');
  modelsRoot = path.dirname(require.resolve('kubernetes-models/package.json'));
} catch (e) {
  console.error('k8s_schema_check: missing npm packages; run `npm ci --prefix tests/deploy`: ' +
                e.message);
  process.exit(2);
}
const nodeModules = path.dirname(modelsRoot);

// apiVersion "apps/v1" -> kubernetes-models/apps/v1; "v1" -> kubernetes-models/v1.
function modelDir(apiVersion) {
  return path.join(modelsRoot, ...apiVersion.split('/'));
}

// ---- strict unknown-field check from the .d.ts declarations -------------

const dtsCache = new Map();

// Parses the first `export interface` of a declaration file into
// {props: Map(name -> type text), imports: Map(typeName -> file)}.
// Returns null for files that declare only type aliases (IntOrString,
// Quantity, Time, ...): those are leaves.
function parseDts(file) {
  if (dtsCache.has(file)) {
    return dtsCache.get(file);
  }
  let result = null;
  if (fs.existsSync(file)) {
    const text = fs.readFileSync(file, 'utf8');
    const imports = new Map();
    const importRe = /^import \{ ([^}]+) \} from "([^"]+)";$/gm;
    let m;
    while ((m = importRe.exec(text)) !== null) {
      let target = m[2];
      target = target.startsWith('.') ? path.resolve(path.dirname(file), target)
                                      : path.join(nodeModules, target);
      target = target.replace(/\.js$/, '') + '.d.ts';
      for (const name of m[1].split(',').map((s) => s.trim())) {
        imports.set(name, target);
      }
    }
    const lines = text.split('\n');
    const start = lines.findIndex((l) => /^export interface \w+/.test(l));
    if (start >= 0) {
      const props = new Map();
      for (let i = start + 1; i < lines.length && lines[i] !== '}'; i++) {
        const p = /^ {4}"([^"]+)"\??: (.*)$/.exec(lines[i]);
        if (p) {
          // A multi-line inline type (`{`) is a map of arbitrary keys.
          props.set(p[1], p[2] === '{' ? '{map}' : p[2].replace(/;$/, ''));
        }
      }
      result = {props, imports};
    }
  }
  dtsCache.set(file, result);
  return result;
}

function checkStrict(value, dtsFile, where, errors) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return;
  }
  const decl = parseDts(dtsFile);
  if (decl === null) {
    return;
  }
  for (const [key, child] of Object.entries(value)) {
    if (!decl.props.has(key)) {
      errors.push(`${where}/${key}: unknown field "${key}"`);
      continue;
    }
    let type = decl.props.get(key);
    let isArray = false;
    const arr = /^Array<(.+)>$/.exec(type);
    if (arr) {
      type = arr[1];
      isArray = true;
    }
    const target = decl.imports.get(type);
    if (target === undefined) {
      continue;  // a primitive, an enum of literals, a map or a leaf alias
    }
    if (isArray && Array.isArray(child)) {
      child.forEach((item, i) => checkStrict(item, target, `${where}/${key}/${i}`, errors));
    } else {
      checkStrict(child, target, `${where}/${key}`, errors);
    }
  }
}

// ---- main ----------------------------------------------------------------

function validateDocument(input, label) {
  let doc = input;
  const errors = [];
  if (doc === null || typeof doc !== 'object') {
    return [`${label}: not an object`];
  }
  const {apiVersion, kind} = doc;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
    return [`${label}: apiVersion and kind are required`];
  }
  const dir = modelDir(apiVersion);
  const jsFile = path.join(dir, kind + '.js');
  const dtsFile = path.join(dir, kind + '.d.ts');
  if (!fs.existsSync(jsFile)) {
    return [`${label}: unknown apiVersion/kind ${apiVersion}/${kind}`];
  }
  const Model = require(jsFile)[kind];
  if (apiVersion === 'v1' && kind === 'Secret' && doc.data && typeof doc.data === 'object') {
    // kustomize wraps long base64 values over several lines; the API
    // server's decoder (Go encoding/base64) skips \r and \n, so do the same.
    doc = {...doc, data: Object.fromEntries(Object.entries(doc.data).map(
        ([k, v]) => [k, typeof v === 'string' ? v.replace(/[\r\n]/g, '') : v]))};
  }
  try {
    new Model(doc).validate();
  } catch (e) {
    const list = e.errors || [{instancePath: '', message: e.message}];
    for (const err of list) {
      errors.push(`${label}${err.instancePath}: ${err.message}` +
                  (err.params && err.params.allowedValues
                       ? ` (${err.params.allowedValues.join(', ')})` : ''));
    }
  }
  checkStrict(doc, dtsFile, label, errors);
  return errors;
}

function main(argv) {
  if (argv.length === 0) {
    console.error('usage: k8s_schema_check.js FILE.yaml [FILE.yaml ...]');
    return 2;
  }
  let documents = 0;
  let failures = 0;
  for (const file of argv) {
    const text = fs.readFileSync(file, 'utf8');
    const docs = YAML.parseAllDocuments(text);
    for (const d of docs) {
      if (d.errors.length > 0) {
        console.error(`${file}: YAML error: ${d.errors[0].message}`);
        failures++;
        continue;
      }
      const doc = d.toJS();
      if (doc === null) {
        continue;
      }
      documents++;
      const name = doc.metadata && doc.metadata.name ? doc.metadata.name : '?';
      const label = `${path.basename(file)}: ${doc.kind}/${name}`;
      const errors = validateDocument(doc, label);
      if (errors.length > 0) {
        failures++;
        errors.forEach((e) => console.error('INVALID ' + e));
      }
    }
  }
  console.log(`k8s_schema_check: ${documents} objects, ${failures} invalid`);
  return failures === 0 && documents > 0 ? 0 : 1;
}

process.exit(main(process.argv.slice(2)));
