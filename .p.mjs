const { readCheckpoint } = await import('/work/main/dist/checkpoint/read.js');
const f = process.argv[2];
for (let i = 0; i < 5; i++) readCheckpoint(f);
const ts = [];
for (let i = 0; i < 30; i++) { const t = performance.now(); readCheckpoint(f); ts.push(performance.now() - t); }
ts.sort((a, b) => a - b); console.log('median', ts[15]);
