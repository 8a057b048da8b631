#!/usr/bin/env node
// Referee for `alerts import-tflite`: runs a .tflite model in TensorFlow's TFLite WASM runtime inside headless
// Chromium (playwright-core, /usr/bin/chromium) on the rows of an .npy float32 file and writes the outputs as .npy.
//
//   node referee.mjs --model M.tflite --inputs X.npy --out Y.npy [--chromium /usr/bin/chromium]
//
// X.npy is float32 [N, ...model input shape without batch]; Y.npy is float32 [N, ...output shape without batch].
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
for (const k of ['model', 'inputs', 'out'])
  if (!args[k]) { console.error(`missing --${k}\nusage: node referee.mjs --model M.tflite --inputs X.npy --out Y.npy`); process.exit(1); }

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${file}: not an .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12);
  const header = buf.toString('latin1', start, start + headerLen);
  if (!/'descr':\s*'<f4'/.test(header)) throw new Error(`${file}: dtype must be little-endian float32 ('<f4'), header ${header}`);
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${file}: fortran_order arrays are not supported`);
  const shape = header.match(/'shape':\s*\(([^)]*)\)/)[1].split(',').map(s => s.trim()).filter(Boolean).map(Number);
  const off = start + headerLen;
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + off, buf.byteOffset + buf.length));
  return { shape, data };
}

function writeNpy(file, shape, data) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header = header + ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const h = Buffer.alloc(10);
  h.write('\x93NUMPY', 0, 'latin1'); h[6] = 1; h[7] = 0; h.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([h, Buffer.from(header, 'latin1'), Buffer.from(Float32Array.from(data).buffer)]));
}

const input = readNpy(args.inputs);
const rowSize = input.shape.slice(1).reduce((a, b) => a * b, 1);
const modelPath = path.resolve(args.model);

const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.tflite': 'application/octet-stream' };
const loaded = new Set();
const server = http.createServer((req, res) => {
  const url = decodeURIComponent(req.url.split('?')[0]);
  // The tfjs-tflite loader asks for its WASM glue next to its script (dist/); the files ship in wasm/.
  const base = path.basename(url);
  const file = url === '/model.tflite' ? modelPath
    : base.startsWith('tflite_web_api_cc') ? path.join(here, 'node_modules/@tensorflow/tfjs-tflite/wasm', base)
    : path.join(here, url === '/' ? 'page.html' : url);
  if (base.startsWith('tflite_web_api_cc')) loaded.add(base);
  if (!file.startsWith(here) && file !== modelPath) { res.writeHead(403); res.end(); return; }
  fs.readFile(file, (err, body) => {
    if (err) { if (!url.endsWith('.ico') && !url.endsWith('.map')) console.error('404', url); res.writeHead(404); res.end(String(err)); return; }
    res.writeHead(200, { 'Content-Type': types[path.extname(file)] ?? 'application/octet-stream' });
    res.end(body);
  });
});
await new Promise(r => server.listen(0, '127.0.0.1', r));
const port = server.address().port;

const browser = await chromium.launch({ executablePath: args.chromium ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
try {
  const page = await browser.newPage();
  page.on('console', m => { if (m.type() === 'error') console.error('[page]', m.text()); });
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForFunction(() => window.refereeReady === true);
  const result = await page.evaluate(([rows, size]) => window.runReferee('/model.tflite', rows, size), [Array.from(input.data), rowSize]);
  const n = input.shape[0];
  const outShape = [n, ...result.outputShape.slice(1)];
  writeNpy(args.out, outShape, result.outputs);
  console.log(JSON.stringify({ rows: n, inputShape: result.inputShape, outputShape: outShape, msPerRow: Number(result.msPerRow.toFixed(4)), wasm: [...loaded], out: args.out }));
} finally {
  await browser.close();
  server.close();
}
