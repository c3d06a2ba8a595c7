/**
 * The relay chart: an SVG, written by hand (no dependencies), of every relay's
 * median divided by `cfwd -m vnet`'s median in the same run, one group of
 * horizontal labelled bars per test, a dashed line at 1.0 (= cfwd -m vnet).
 * Bars are grey for the C relays, blue for tunpipe, orange for the other
 * Node relays; each carries its ratio and its absolute median.
 */

const COLORS = { c: '#9e9e9e', tunpipe: '#1f6fb4', node: '#e8762c' };
const WIDTH = 820;
const LABEL_W = 230;
const VALUE_W = 150;
const BAR_H = 16;
const GAP = 5;
const GROUP_GAP = 18;
const TOP = 56;

const escape = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const formatValue = (s) => (s.unit === 'pps' ? `${Math.round(s.median / 1000)} kpps` : `${s.median.toFixed(2)} Gbps`);
const TEST_TITLES = {
  tcp1: 'tcp1: TCP, 1 stream, IPv4 (Gbps)',
  tcp4: 'tcp4: TCP, 4 streams, IPv4 (Gbps)',
  tcp1v6: 'tcp1v6: TCP, 1 stream, IPv6 (Gbps)',
  tcp4v6: 'tcp4v6: TCP, 4 streams, IPv6 (Gbps)',
  udpmm64: 'udpmm64: 64-byte UDP delivered (pps)',
  udp64: 'udp64: 64-byte UDP, iperf3 (pps)',
};

/** Renders the chart for a relay suite result (`{ modes, tests, stats, ratios, env }`) as an SVG string. */
export function relayRatioSvg({ modes, tests, stats, ratios, env }, { title = 'TUN→TUN relay, ratio to cfwd -m vnet (same run)', subtitle = '' } = {}) {
  let max = 1;
  for (const t of tests) for (const m of modes) max = Math.max(max, ratios[t]?.[m.label]?.toVnet ?? 0);
  max = Math.ceil(max * 4) / 4;
  const plotW = WIDTH - LABEL_W - VALUE_W - 20;
  const x = (r) => LABEL_W + (r / max) * plotW;
  const parts = [];
  let y = TOP;
  for (const t of tests) {
    parts.push(`<text x="10" y="${y + 12}" class="h">${escape(TEST_TITLES[t] ?? t)}</text>`);
    y += 20;
    const top = y;
    for (const m of modes) {
      const s = stats[t]?.[m.label];
      const r = ratios[t]?.[m.label]?.toVnet;
      parts.push(`<text x="${LABEL_W - 8}" y="${y + BAR_H - 4}" class="l">${escape(m.title)}</text>`);
      if (s && s.median !== null && r !== null && r !== undefined) {
        const w = Math.max(1, x(r) - LABEL_W);
        parts.push(`<rect x="${LABEL_W}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${COLORS[m.kind]}"/>`);
        parts.push(`<text x="${(LABEL_W + w + 6).toFixed(1)}" y="${y + BAR_H - 4}" class="v">${r.toFixed(2)}× (${escape(formatValue(s))})</text>`);
      } else {
        parts.push(`<text x="${LABEL_W + 6}" y="${y + BAR_H - 4}" class="v">no result</text>`);
      }
      y += BAR_H + GAP;
    }
    parts.push(`<line x1="${x(1)}" y1="${top - 3}" x2="${x(1)}" y2="${y - GAP + 3}" class="one"/>`);
    y += GROUP_GAP;
  }
  const ticks = [];
  for (let r = 0; r <= max + 1e-9; r += max > 3 ? 1 : 0.5) {
    ticks.push(`<line x1="${x(r)}" y1="${TOP - 6}" x2="${x(r)}" y2="${y - GROUP_GAP}" class="grid"/>`);
    ticks.push(`<text x="${x(r)}" y="${TOP - 10}" class="t">${r}×</text>`);
  }
  const legendY = y + 4;
  const legend = [['c', 'C reference relay (cfwd)'], ['tunpipe', 'tunpipe'], ['node', 'Node without tunpipe']]
    .map(([k, text], i) => `<rect x="${10 + i * 230}" y="${legendY}" width="12" height="12" fill="${COLORS[k]}"/>` +
      `<text x="${28 + i * 230}" y="${legendY + 11}" class="l0">${escape(text)}</text>`).join('');
  const height = legendY + 40;
  const note = `medians of ${env?.REPS ?? '?'} × ${env?.DURATION ?? '?'} s per relay and test, all relays interleaved in one run.sh; dashed line: cfwd -m vnet`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="DejaVu Sans, Arial, sans-serif">
<style>
.h{font-size:13px;font-weight:bold;fill:#222}.l{font-size:12px;fill:#333;text-anchor:end}.l0{font-size:12px;fill:#333}
.v{font-size:11px;fill:#222;paint-order:stroke;stroke:#fff;stroke-width:3px}.t{font-size:10px;fill:#666;text-anchor:middle}.grid{stroke:#e4e4e4;stroke-width:1}
.one{stroke:#333;stroke-width:1.2;stroke-dasharray:4 3}.ti{font-size:15px;font-weight:bold;fill:#111}.st{font-size:11px;fill:#555}
</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="20" class="ti">${escape(title)}</text>
<text x="10" y="36" class="st">${escape(subtitle || note)}</text>
${ticks.join('\n')}
${parts.join('\n')}
${legend}
<text x="10" y="${legendY + 32}" class="st">${escape(subtitle ? note : '')}</text>
</svg>
`;
}
