// Writes www/embed.html, the page for iframes and the <finetune-lab>
// element, from www/index.html: the same markup (so the two never drift
// apart) with body[data-embed], which styles.css lays out compactly and
// main.js answers with the embed's events. `make build` runs it; the file
// is build output, like www/pkg.
import { readFileSync, writeFileSync } from 'node:fs';

const page = readFileSync('www/index.html', 'utf8');
const embed = page
  .replace('<title>Fine-Tune Lab</title>', '<title>Fine-Tune Lab (embedded)</title>')
  .replace('<body>', '<body data-embed>\n  <!-- Made from index.html by scripts/make-embed.mjs: edit that file. -->');
if (embed === page || !embed.includes('<body data-embed>')) throw new Error('make-embed: www/index.html no longer has the <title> and <body> this script expects');
writeFileSync('www/embed.html', embed);
