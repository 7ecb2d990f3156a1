#!/usr/bin/env node
// Validates FHIR R4 JSON resources with the official R4 JSON schema and with FHIR.js
// (see fhir_validate.mjs). Bundles are validated with their entries.
//
// Usage:
//   node validate.mjs [--expect FILE] FILE_OR_DIR...   every *.json in each DIR (not recursive)
//   node validate.mjs [--expect FILE] --stdin          one resource read from standard input
//
// --expect FILE names files (by base name) that must fail, and how:
//   { "files": { "NAME.json": { "schema": "error substring", "fhirjs": "error substring",
//                               "reason": "why" } } }
// A listed validator must report an error containing its substring; an unlisted one must pass.
// "json" instead expects the file to be unreadable as JSON, with that text in the message.
// A listed file that meets its expectation counts as passed, so the official examples that the
// official validators reject are named with the reason, and broken/ proves both validators fail.
//
// Prints one line per failing file with the first errors, then `validate: N passed, M failed`.
// Exit status: 0 when nothing failed, 1 when some file failed, 2 on bad usage.

import fs from 'node:fs';
import path from 'node:path';
import { VALIDATORS, createValidator, formatErrors, isValid } from './fhir_validate.mjs';

const USAGE = 'usage: node validate.mjs [--expect FILE] (--stdin | FILE_OR_DIR...)';

function parseArgs(argv) {
  const args = { expect: null, stdin: false, inputs: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--expect' && i + 1 < argv.length) args.expect = argv[++i];
    else if (arg === '--stdin') args.stdin = true;
    else if (arg === '--help' || arg === '-h') usage(0);
    else if (arg.startsWith('-')) usage(2, `unknown option ${arg}`);
    else args.inputs.push(arg);
  }
  if (args.stdin === (args.inputs.length > 0)) usage(2, 'give --stdin or files, not both or neither');
  return args;
}

function usage(status, reason) {
  if (reason) console.error(`validate: ${reason}`);
  console.error(USAGE);
  process.exit(status);
}

function listFiles(inputs) {
  return inputs.flatMap((input) => {
    const stat = fs.statSync(input, { throwIfNoEntry: false });
    if (!stat) usage(2, `no such file or directory: ${input}`);
    if (!stat.isDirectory()) return [input];
    return fs
      .readdirSync(input)
      .filter((name) => name.endsWith('.json'))
      .sort()
      .map((name) => path.join(input, name));
  });
}

function loadExpectations(file) {
  if (!file) return {};
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')).files ?? {};
  } catch (err) {
    usage(2, `cannot read expectations ${file}: ${err.message}`);
  }
}

// What can reject a file: reading it as JSON, then each validator.
const CHECKS = ['json', ...VALIDATORS];

/** Compares what the checks said with what was expected; returns a reason or null. */
function judge(errors, expected) {
  if (!expected) return errors.json ? `json: ${errors.json[0]}` : isValid(errors) ? null : formatErrors(errors);
  for (const name of CHECKS) {
    const want = expected[name];
    const got = errors[name] ?? [];
    if (!want && got.length > 0) return `${name} was expected to pass: ${got.join('; ')}`;
    if (want && !got.some((e) => e.includes(want))) {
      return `${name} was expected to report "${want}", got: ${got.length ? got.join('; ') : 'no error'}`;
    }
  }
  return null;
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const expectations = loadExpectations(args.expect);
  const started = performance.now();
  let validate;
  try {
    validate = createValidator();
  } catch (err) {
    console.error(`validate: ${err.message}`);
    process.exit(2);
  }
  const sources = args.stdin
    ? [{ name: 'stdin', read: () => fs.readFileSync(0, 'utf8') }]
    : listFiles(args.inputs).map((file) => ({ name: file, read: () => fs.readFileSync(file, 'utf8') }));

  let passed = 0;
  let failed = 0;
  let expectedFailures = 0;
  let bytes = 0;
  for (const source of sources) {
    const expected = expectations[path.basename(source.name)];
    let errors;
    try {
      const text = source.read();
      bytes += Buffer.byteLength(text);
      errors = validate(JSON.parse(text));
    } catch (err) {
      errors = { json: [err.message] };
    }
    const reason = judge(errors, expected);
    if (reason) {
      failed++;
      console.log(`FAIL ${source.name}: ${reason}`);
    } else {
      passed++;
      if (expected) expectedFailures++;
    }
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  console.log(
    `validated ${sources.length} resources (${(bytes / 1e6).toFixed(1)} MB) in ${seconds} s` +
      (expectedFailures ? `, ${expectedFailures} rejected as expected by ${args.expect}` : ''),
  );
  console.log(`validate: ${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}

main();
