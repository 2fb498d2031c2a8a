#!/usr/bin/env node
// Times ONNX Runtime (CPU) on one model: loads it once, feeds seeded random float32 inputs of
// the given shapes, runs WARMUP untimed runs then RUNS timed ones, and prints one JSON line
// {"load_ms": ..., "times_ms": [...]} on stdout.
//
//   node bench/ort_bench.js MODEL.onnx --shape NAME=1,3,224,224 [--shape ...]
//        [--runs 10] [--warmup 1] [--threads 1] [--profile PREFIX]
//
// --profile: ONNX Runtime's own profile (every node's time, warm-up runs included), written as
// PREFIX_<date>.json.
//
// onnxruntime-node comes from <repo>/.ort (utils/setup_ort.sh installs it).
'use strict';
const path = require('path');

const USAGE = 'usage: node ort_bench.js MODEL.onnx --shape NAME=D0,D1,... [--shape ...] ' +
  '[--runs N] [--warmup N] [--threads N] [--profile PREFIX]';

function fail(msg, code = 1) {
  console.error(`ort_bench.js: error: ${msg}`);
  if (code === 2) console.error(USAGE);
  process.exit(code);
}

function parseArgs(argv) {
  const args = { model: null, shapes: new Map(), runs: 10, warmup: 1, threads: 1, profile: null };
  const count = (a, v, min) => {
    if (!/^[0-9]+$/.test(v) || Number(v) < min) fail(`${a} wants an integer >= ${min}, got '${v}'`, 2);
    return Number(v);
  };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : fail(`${a} needs a value`, 2));
    if (a === '--shape') {
      const v = value();
      const m = /^([^=]+)=([0-9]+(,[0-9]+)*)$/.exec(v);
      if (!m) fail(`--shape wants NAME=D0,D1,..., got '${v}'`, 2);
      args.shapes.set(m[1], m[2].split(',').map(Number));
    } else if (a === '--runs') args.runs = count(a, value(), 1);
    else if (a === '--warmup') args.warmup = count(a, value(), 0);
    else if (a === '--threads') args.threads = count(a, value(), 1);
    else if (a === '--profile') args.profile = value();
    else if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else if (a.startsWith('-')) fail(`unknown option ${a}`, 2);
    else if (args.model === null) args.model = a;
    else fail(`unexpected argument '${a}'`, 2);
  }
  if (args.model === null) fail('no model given', 2);
  return args;
}

// xorshift32 -> uniform [-1, 1): the values do not matter for latency, only reproducibility.
function randomData(n, seed) {
  const data = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; ++i) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    data[i] = s / 2147483648 - 1;
  }
  return data;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  let ort;
  try {
    ort = require(path.join(__dirname, '..', '.ort', 'node_modules', 'onnxruntime-node'));
  } catch (e) {
    fail(`cannot load onnxruntime-node (run utils/setup_ort.sh): ${e.message}`);
  }
  const t0 = process.hrtime.bigint();
  let session;
  try {
    session = await ort.InferenceSession.create(args.model, {
      executionProviders: ['cpu'],
      intraOpNumThreads: args.threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      ...(args.profile ? { enableProfiling: true, profileFilePrefix: args.profile } : {}),
    });
  } catch (e) {
    fail(`ONNX Runtime cannot load ${args.model}: ${e.message}`);
  }
  const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const feeds = {};
  session.inputNames.forEach((name, i) => {
    const dims = args.shapes.get(name);
    if (!dims) fail(`no --shape for input '${name}'`, 2);
    feeds[name] = new ort.Tensor('float32', randomData(dims.reduce((a, b) => a * b, 1), 42 + i), dims);
  });
  const times = [];
  for (let i = 0; i < args.warmup + args.runs; ++i) {
    const start = process.hrtime.bigint();
    try {
      await session.run(feeds);
    } catch (e) {
      fail(`ONNX Runtime failed to run ${args.model}: ${e.message}`);
    }
    if (i >= args.warmup) times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  if (args.profile) session.endProfiling();
  console.log(JSON.stringify({ load_ms: loadMs, times_ms: times }));
}

main();
