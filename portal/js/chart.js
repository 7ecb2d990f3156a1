// Ledger growth (a line: entries in the ledger over time) and access volume (bars: accesses per
// interval), drawn on a canvas from the ledger's own leaves. No library.

const BUCKETS = 24;

export function drawChart(canvas, entries) {
  const ratio = globalThis.devicePixelRatio || 1;
  const width = canvas.clientWidth || 600;
  const height = canvas.clientHeight || 220;
  canvas.width = width * ratio;
  canvas.height = height * ratio;
  const g = canvas.getContext('2d');
  g.scale(ratio, ratio);
  g.clearRect(0, 0, width, height);
  if (entries.length === 0) return;
  const pad = { left: 48, right: 48, top: 12, bottom: 28 };
  const t0 = entries[0].time;
  const t1 = Math.max(entries[entries.length - 1].time, t0 + 1);
  const x = (t) => pad.left + ((t - t0) / (t1 - t0)) * (width - pad.left - pad.right);
  const plotH = height - pad.top - pad.bottom;

  const buckets = new Array(BUCKETS).fill(0);
  for (const e of entries) {
    if (e.kind !== 'access' && e.kind !== 'access-denied') continue;
    buckets[Math.min(BUCKETS - 1, Math.floor(((e.time - t0) / (t1 - t0)) * BUCKETS))]++;
  }
  const maxBucket = Math.max(1, ...buckets);
  const barW = (width - pad.left - pad.right) / BUCKETS;
  g.fillStyle = '#9cc3e6';
  buckets.forEach((n, i) => {
    const bh = (n / maxBucket) * plotH;
    g.fillRect(pad.left + i * barW + 1, pad.top + plotH - bh, Math.max(1, barW - 2), bh);
  });

  const first = entries[0].index;
  const last = entries[entries.length - 1].index + 1;
  const y = (n) => pad.top + plotH - ((n - first) / Math.max(1, last - first)) * plotH;
  g.strokeStyle = '#0b4f8a';
  g.lineWidth = 2;
  g.beginPath();
  entries.forEach((e, i) => (i ? g.lineTo(x(e.time), y(e.index + 1)) : g.moveTo(x(e.time), y(e.index + 1))));
  g.stroke();

  g.fillStyle = '#333';
  g.font = '12px system-ui, sans-serif';
  g.textAlign = 'right';
  g.fillText(String(last), pad.left - 4, pad.top + 10);
  g.fillText(String(first), pad.left - 4, pad.top + plotH);
  g.textAlign = 'left';
  g.fillText(String(maxBucket), width - pad.right + 4, pad.top + 10);
  const clock = (t) => new Date(t).toTimeString().slice(0, 8);
  g.fillText(clock(t0), pad.left, height - 8);
  g.textAlign = 'right';
  g.fillText(clock(t1), width - pad.right, height - 8);
}
