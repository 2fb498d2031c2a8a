#!/usr/bin/env node
// Runs an ONNX model with ONNX Runtime (CPU) on .npy inputs and writes every output as
// DIR/<output name>.npy. Characters other than [A-Za-z0-9._-] in output names become '_'.
//
//   node utils/ort_run.js MODEL.onnx --input NAME=FILE.npy [--input ...] --out-dir DIR
//        [--threads N] [--optimization disabled|basic|extended|all]
//
// --optimization: ONNX Runtime's graph optimization level (default all). With `disabled` it
// runs the graph node by node as the file says: a QDQ model's QuantizeLinear, DequantizeLinear
// and float operators, not its fused int8 kernels.
//
// onnxruntime-node comes from <repo>/.ort (utils/setup_ort.sh installs it).
'use strict';
const fs = require('fs');
const path = require('path');

const USAGE =
  'usage: node ort_run.js MODEL.onnx --input NAME=FILE.npy [--input ...] --out-dir DIR [--threads N] ' +
  '[--optimization disabled|basic|extended|all]';
const OPTIMIZATION_LEVELS = ['disabled', 'basic', 'extended', 'all'];

class UserError extends Error {}
class UsageError extends UserError {}

// numpy descr (little-endian or byte-order-free) <-> ORT tensor type and typed array.
const DTYPES = [
  ['<f4', 'float32', Float32Array],
  ['<f8', 'float64', Float64Array],
  ['<f2', 'float16', Uint16Array],
  ['<i8', 'int64', BigInt64Array],
  ['<i4', 'int32', Int32Array],
  ['<i2', 'int16', Int16Array],
  ['|i1', 'int8', Int8Array],
  ['<u8', 'uint64', BigUint64Array],
  ['<u4', 'uint32', Uint32Array],
  ['<u2', 'uint16', Uint16Array],
  ['|u1', 'uint8', Uint8Array],
  ['|b1', 'bool', Uint8Array],
];
const byDescr = new Map(DTYPES.map((d) => [d[0], d]));
const byOrtType = new Map(DTYPES.map((d) => [d[1], d]));

function readNpy(file) {
  let buf;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new UserError(`cannot read ${file}: ${e.message}`);
  }
  const bad = (why) => new UserError(`${file}: not a supported .npy file (${why})`);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw bad('bad magic');
  const major = buf[6];
  if (major < 1 || major > 3) throw bad(`format version ${major}`);
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const dataStart = (major === 1 ? 10 : 12) + headerLen;
  if (dataStart > buf.length) throw bad('truncated header');
  const header = buf.toString(major === 3 ? 'utf8' : 'latin1', dataStart - headerLen, dataStart);
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) throw bad(`cannot parse header ${header.trim()}`);
  // '=' and '|' mean native/no byte order; this only runs on little-endian hosts.
  const key = descr[1].replace(/^=/, '<').replace(/^<([iub]1)$/, '|$1');
  const dtype = byDescr.get(key);
  if (!dtype) throw bad(`dtype '${descr[1]}'`);
  if (fortran[1] === 'True') throw bad('Fortran order');
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s).map(Number);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw bad(`shape (${shape[1]})`);
  const [, ortType, Ctor] = dtype;
  const count = dims.reduce((a, b) => a * b, 1);
  const nbytes = count * Ctor.BYTES_PER_ELEMENT;
  if (buf.length - dataStart !== nbytes)
    throw bad(`expected ${nbytes} data bytes, found ${buf.length - dataStart}`);
  // Copy into a fresh ArrayBuffer: the data offset need not be aligned to the element size.
  const data = new Ctor(count);
  new Uint8Array(data.buffer).set(buf.subarray(dataStart));
  return { ortType, dims, data };
}

function writeNpy(file, ortType, dims, data) {
  const dtype = byOrtType.get(ortType);
  if (!dtype) throw new UserError(`cannot write output of type ${ortType} to ${file}`);
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${dtype[0]}', 'fortran_order': False, 'shape': ${shape}, }`;
  // Pad with spaces so that the data starts on a 64-byte boundary, as numpy does.
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  fs.writeFileSync(file, Buffer.concat([prefix, Buffer.from(header, 'latin1'), bytes]));
}

function parseArgs(argv) {
  const args = { model: null, inputs: new Map(), outDir: null, threads: 1, optimization: 'all' };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new UsageError(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--input') {
      const v = value();
      const eq = v.indexOf('=');
      if (eq <= 0 || eq === v.length - 1) throw new UsageError(`--input wants NAME=FILE.npy, got '${v}'`);
      const name = v.slice(0, eq);
      if (args.inputs.has(name)) throw new UsageError(`input '${name}' given twice`);
      args.inputs.set(name, v.slice(eq + 1));
    } else if (a === '--out-dir') {
      args.outDir = value();
    } else if (a === '--threads') {
      const v = value();
      args.threads = Number(v);
      if (!/^[1-9][0-9]*$/.test(v)) throw new UsageError(`--threads wants a positive integer, got '${v}'`);
    } else if (a === '--optimization') {
      const v = value();
      if (!OPTIMIZATION_LEVELS.includes(v))
        throw new UsageError(`--optimization wants one of ${OPTIMIZATION_LEVELS.join(', ')}, got '${v}'`);
      args.optimization = v;
    } else if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else if (a.startsWith('-')) {
      throw new UsageError(`unknown option ${a}`);
    } else if (args.model === null) {
      args.model = a;
    } else {
      throw new UsageError(`unexpected argument '${a}'`);
    }
  }
  if (args.model === null) throw new UsageError('no model given');
  if (args.outDir === null) throw new UsageError('--out-dir is required');
  return args;
}

function loadOrt() {
  const dir = path.join(__dirname, '..', '.ort', 'node_modules', 'onnxruntime-node');
  try {
    return require(dir);
  } catch (e) {
    throw new UserError(`cannot load onnxruntime-node from ${dir} (run utils/setup_ort.sh): ${e.message}`);
  }
}

async function main(argv) {
  const args = parseArgs(argv);
  if (!fs.existsSync(args.model)) throw new UserError(`model ${args.model} does not exist`);
  const ort = loadOrt();
  let session;
  try {
    session = await ort.InferenceSession.create(args.model, {
      executionProviders: ['cpu'],
      intraOpNumThreads: args.threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: args.optimization,
    });
  } catch (e) {
    throw new UserError(`ONNX Runtime cannot load ${args.model}: ${e.message}`);
  }
  const missing = session.inputNames.filter((n) => !args.inputs.has(n));
  if (missing.length) throw new UserError(`no --input for model input(s): ${missing.join(', ')}`);
  const unknown = [...args.inputs.keys()].filter((n) => !session.inputNames.includes(n));
  if (unknown.length)
    throw new UserError(`model has no input(s) ${unknown.join(', ')}; inputs are ${session.inputNames.join(', ')}`);

  const feeds = {};
  for (const [name, file] of args.inputs) {
    const { ortType, dims, data } = readNpy(file);
    feeds[name] = new ort.Tensor(ortType, data, dims);
  }
  let results;
  try {
    results = await session.run(feeds);
  } catch (e) {
    throw new UserError(`ONNX Runtime failed to run ${args.model}: ${e.message}`);
  }

  fs.mkdirSync(args.outDir, { recursive: true });
  const written = new Map();
  for (const name of session.outputNames) {
    const t = results[name];
    const fileName = name.replace(/[^A-Za-z0-9._-]/g, '_') + '.npy';
    if (written.has(fileName))
      throw new UserError(`outputs '${written.get(fileName)}' and '${name}' both map to ${fileName}`);
    written.set(fileName, name);
    writeNpy(path.join(args.outDir, fileName), t.type, t.dims, t.data);
  }
}

main(process.argv.slice(2)).catch((e) => {
  console.error(`ort_run.js: error: ${e instanceof UserError ? e.message : e.stack}`);
  if (e instanceof UsageError) console.error(USAGE);
  process.exit(e instanceof UsageError ? 2 : 1);
});
