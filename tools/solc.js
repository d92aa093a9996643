#!/usr/bin/env node
// A stand-in for the native solc binary, built on the npm `solc` package (solcjs).
//
// py-solc-x (and so brownie) drives a native `solc` executable, which cannot be downloaded on
// every machine we build on. This script answers the two calls they make:
//   solc --version                  -> "Version: 0.8.28+commit..." like native solc
//   solc --standard-json [flags]    -> standard JSON in on stdin, standard JSON out on stdout
// Imports are resolved from the base path, the allowed paths and the working directory.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const args = process.argv.slice(2);

function flagValues(name) {
  const values = [];
  args.forEach((arg, i) => {
    if (arg === name && i + 1 < args.length) values.push(args[i + 1]);
    else if (arg.startsWith(name + '=')) values.push(arg.slice(name.length + 1));
  });
  return values.flatMap((v) => v.split(','));
}

// Write synchronously: an asynchronous write cut off output over 64 KB when the process exited.
function writeOut(text) {
  const buffer = Buffer.from(text);
  let offset = 0;
  while (offset < buffer.length) offset += fs.writeSync(1, buffer, offset);
}

if (args.includes('--version')) {
  writeOut(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}

if (!args.includes('--standard-json')) {
  process.stderr.write('tools/solc.js supports only --version and --standard-json\n');
  process.exit(2);
}

const roots = [...flagValues('--base-path'), ...flagValues('--allow-paths'), process.cwd()];

function findImport(importPath) {
  const candidates = path.isAbsolute(importPath)
    ? [importPath]
    : roots.map((root) => path.resolve(root, importPath));
  for (const candidate of candidates) {
    if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, 'utf8') };
  }
  return { error: `File not found: ${importPath}` };
}

const input = fs.readFileSync(0, 'utf8');
writeOut(solc.compile(input, { import: findImport }));
