// Files the page gives the user: a name that says what the file is, and the
// bytes saved through a temporary link (nothing leaves the machine).

// `parts` such as ['from scratch', 'mnist.ftld.gz'] → 'from-scratch_mnist_2026-12-01.ftlc'.
export function fileName(parts, extension, date = new Date()) {
  const clean = (s) =>
    String(s)
      .replace(/\.ftld(\.gz)?$/, '')
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '');
  const named = parts.map(clean).filter(Boolean);
  return `${[...named, date.toISOString().slice(0, 10)].join('_')}.${extension}`;
}

export function saveBytes(name, bytes, type = 'application/octet-stream') {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has its own copy once it started; the next task is late enough.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
