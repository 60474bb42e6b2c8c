// The "Your images" panel: classes of the user's own pictures, added as a
// folder with one subfolder per class or as files dropped onto a class (as in
// Teachable Machine); a summary of each class (count, thumbnails, split); and
// every problem told plainly. A problem never discards what was loaded.

import { decodeImage, groupByFolder, readDroppedFolder } from './image-import.js';
import { catalog, hasCatalog } from './catalog.js';

// The core's rules for a dataset of one's own images (catalog.own_images):
// it decides the split when it builds the dataset; the summary shows the
// counts that rule gives as images are added, before any dataset exists.
const rules = () => catalog().own_images;
const STILL_LOADING = 'The training core is still loading; add your images again in a moment.';
function splitCounts(n) {
  if (n < rules().min_per_class) return [n, 0, 0];
  const held = Math.max(1, Math.round(n * rules().held_out_share));
  return [n - 2 * held, held, held];
}

export const OWN_DATASET = 'own';
const FORMS = {
  grey28: { shape: [1, 28, 28], field: 'grey28', label: '28×28 greyscale' },
  rgb32: { shape: [3, 32, 32], field: 'rgb32', label: '32×32 colour' },
};
const THUMBS = 4;

const sameName = (a, b) => a.toLocaleLowerCase() === b.toLocaleLowerCase();

export class OwnImages {
  constructor(root, onChange) {
    this.root = root;
    this.onChange = onChange;
    this.classes = []; // [{name, images: [{name, grey28, rgb32}]}]
    this.version = 0; // bumps on every change, so the worker's copy can be refreshed
    this.summary = root.querySelector('[data-testid="class-summary"]');
    this.messages = root.querySelector('[data-testid="upload-messages"]');
    this.formSelect = root.querySelector('[data-testid="image-form"]');
    this.busy = root.querySelector('.own-busy');

    const folderInput = root.querySelector('[data-testid="upload"]');
    folderInput.addEventListener('change', async () => {
      const entries = [...folderInput.files].map((file) => ({ path: file.webkitRelativePath || file.name, file }));
      const top = entries.length ? entries[0].path.split('/')[0] : '';
      folderInput.value = '';
      await this.addFolder(entries, [], top);
    });
    const nameInput = root.querySelector('[data-testid="new-class-name"]');
    const addClass = () => {
      if (this.addClass(nameInput.value)) nameInput.value = '';
    };
    root.querySelector('[data-testid="add-class"]').addEventListener('click', addClass);
    nameInput.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        addClass();
      }
    });
    this.formSelect.addEventListener('change', () => this.changed());
    // A folder dropped anywhere on the panel (rows take files for their class).
    root.addEventListener('dragover', (e) => e.preventDefault());
    root.addEventListener('drop', (e) => this.onDropFolder(e));
    this.render();
  }

  get form() {
    return this.formSelect.value;
  }

  imageCount() {
    return this.classes.reduce((n, c) => n + c.images.length, 0);
  }

  // Why these images cannot be trained on yet, or null.
  problem() {
    if (this.classes.length < 2) return `add at least two classes (you have ${this.classes.length})`;
    const min = rules().min_per_class;
    const small = this.classes.find((c) => c.images.length < min);
    if (small) {
      return `class “${small.name}” has ${small.images.length} image${small.images.length === 1 ? '' : 's'}; each class needs at least ${min} (3 to train, 1 to validate, 1 to test)`;
    }
    return null;
  }

  // The images in `form` ('grey28' | 'rgb32') as the core builds a dataset
  // from them (DatasetHandle.fromImages): the classes with their file names,
  // and every image's pixels one after another, class after class.
  datasetImages(form) {
    const { shape, field } = FORMS[form];
    const size = shape[0] * shape[1] * shape[2];
    const pixels = new Uint8Array(this.imageCount() * size);
    let at = 0;
    for (const c of this.classes) {
      for (const img of c.images) {
        pixels.set(img[field], at);
        at += size;
      }
    }
    return { shape, classes: this.classes.map((c) => ({ name: c.name, files: c.images.map((img) => img.name) })), pixels };
  }

  // What to keep across a reload: the input form and every class with its
  // images (both forms of each, so either can be trained on again; a .ftld
  // file holds only one).
  state() {
    return { form: this.form, classes: this.classes };
  }

  // Brings kept images back (see `state`), as if the user had added them.
  restore(state) {
    if (!state || !Array.isArray(state.classes)) return;
    this.classes = state.classes;
    if (state.form in FORMS) this.formSelect.value = state.form;
    this.report([{ text: `Your ${this.imageCount()} images in ${this.classes.length} classes are back from this device’s storage.` }]);
    this.changed();
  }

  formLabel(form) {
    return FORMS[form].label;
  }

  addClass(rawName) {
    if (!hasCatalog()) return this.report([{ text: STILL_LOADING }]), false;
    const name = rawName.trim();
    if (!name) return this.report([{ text: 'Give the new class a name first.' }]), false;
    const most = rules().max_class_name_bytes;
    if (new TextEncoder().encode(name).length > most) return this.report([{ text: `The class name “${name.slice(0, 40)}…” is too long (${most} bytes at most).` }]), false;
    const clash = this.classes.find((c) => sameName(c.name, name));
    if (clash) return this.report([{ text: `There is already a class named “${clash.name}”; class names must differ (not only in upper/lower case).` }]), false;
    if (this.classes.length >= rules().max_classes) return this.report([{ text: `At most ${rules().max_classes} classes.` }]), false;
    this.classes.push({ name, images: [] });
    this.report([]);
    this.changed();
    return true;
  }

  async onDropFolder(event) {
    event.preventDefault();
    const items = [...(event.dataTransfer?.items || [])].map((item) => item.webkitGetAsEntry && item.webkitGetAsEntry()).filter(Boolean);
    const folder = items.find((entry) => entry.isDirectory);
    if (!folder) return this.report([{ text: 'Drop a folder with one subfolder per class here, or drop image files onto a class.' }]);
    const { files, emptyFolders } = await readDroppedFolder(folder);
    await this.addFolder(files, emptyFolders, folder.name);
  }

  // Adds every class folder's images; classes that exist (same name) grow.
  async addFolder(entries, emptyFolders, top) {
    if (!hasCatalog()) return this.report([{ text: STILL_LOADING }]);
    if (!entries.length) {
      return this.report([{ text: `The folder${top ? ` “${top}”` : ''} has no files: it needs one subfolder of images per class.` }]);
    }
    const { classes, loose } = groupByFolder(entries);
    const notes = [];
    for (const name of emptyFolders) notes.push({ text: `Class folder “${name}” is empty; it was not added.` });
    if (loose.length) notes.push({ text: `${loose.length} file${loose.length === 1 ? ' is' : 's are'} not inside a class folder and ${loose.length === 1 ? 'was' : 'were'} skipped:`, files: loose });
    if (!classes.size) notes.push({ text: `“${top}” has no subfolders: put each class's images in its own subfolder.` });
    const seen = [];
    for (const [name, files] of classes) {
      const twin = seen.find((s) => sameName(s, name) && s !== name);
      if (twin) {
        notes.push({ text: `Folders “${twin}” and “${name}” differ only in upper/lower case; “${name}” was skipped.` });
        continue;
      }
      seen.push(name);
      const existing = this.classes.find((c) => sameName(c.name, name));
      if (existing && existing.name !== name) {
        notes.push({ text: `Folder “${name}” clashes with the class “${existing.name}” (names differ only in case); it was skipped.` });
        continue;
      }
      notes.push(...(await this.addFiles(name, files)));
    }
    this.report(notes);
  }

  // Decodes `files` into class `name` (created if new); returns the notes to show.
  async addFiles(name, files) {
    if (!hasCatalog()) return [{ text: STILL_LOADING }];
    let target = this.classes.find((c) => c.name === name);
    if (!target) {
      if (this.classes.length >= rules().max_classes) return [{ text: `Class “${name}” was not added: at most ${rules().max_classes} classes.` }];
      target = { name, images: [] };
      this.classes.push(target);
    }
    const skipped = [];
    let added = 0;
    this.busy.hidden = false;
    try {
      for (const file of files) {
        if (this.imageCount() >= rules().max_images) {
          skipped.push(`${file.name}: over the limit of ${rules().max_images.toLocaleString('en-US')} images in all`);
          continue;
        }
        try {
          target.images.push(await decodeImage(file));
          added += 1;
        } catch (err) {
          skipped.push(`${file.webkitRelativePath || file.name}: ${err.message}`);
        }
      }
    } finally {
      this.busy.hidden = true;
    }
    this.changed();
    const notes = [{ text: `Class “${name}”: ${added} image${added === 1 ? '' : 's'} added.` }];
    if (skipped.length) notes.push({ text: `${skipped.length} file${skipped.length === 1 ? ' was' : 's were'} skipped in “${name}”:`, files: skipped });
    return notes;
  }

  removeClass(index) {
    this.classes.splice(index, 1);
    this.report([]);
    this.changed();
  }

  changed() {
    this.version += 1;
    this.render();
    this.onChange();
  }

  // Shows what the latest action did: [{text, files?: [string]}].
  report(notes) {
    this.messages.replaceChildren(
      ...notes.map((note) => {
        const li = document.createElement('li');
        li.textContent = note.text;
        if (note.files) {
          const list = document.createElement('ul');
          list.setAttribute('data-testid', 'skipped-files');
          list.append(...note.files.map((f) => Object.assign(document.createElement('li'), { textContent: f })));
          li.append(list);
        }
        return li;
      }),
    );
  }

  render() {
    const rows = this.classes.map((c, index) => this.classRow(c, index));
    const total = this.imageCount();
    const problem = this.problem();
    const status = document.createElement('p');
    status.className = problem ? 'own-problem' : 'own-ready';
    status.setAttribute('data-testid', 'own-status');
    status.textContent = total
      ? `${this.classes.length} classes, ${total} images. ${problem ? `Not ready: ${problem}.` : 'Ready: choose “Your images” as the dataset and press Train.'}`
      : 'No images yet.';
    this.summary.replaceChildren(...rows, status);
  }

  classRow(c, index) {
    const row = document.createElement('div');
    row.className = 'own-class';
    row.dataset.class = c.name;
    const [train, validation, test] = splitCounts(c.images.length);
    const name = Object.assign(document.createElement('span'), { className: 'own-class-name', textContent: c.name });
    const count = Object.assign(document.createElement('span'), { className: 'own-count' });
    count.setAttribute('data-testid', 'class-count');
    count.textContent = `${c.images.length} image${c.images.length === 1 ? '' : 's'}`;
    const split = Object.assign(document.createElement('span'), { className: 'own-split' });
    split.setAttribute('data-testid', 'class-split');
    split.textContent = c.images.length >= rules().min_per_class ? `${train} train · ${validation} validation · ${test} test` : `needs ${rules().min_per_class - c.images.length} more`;
    const thumbs = document.createElement('span');
    thumbs.className = 'own-thumbs';
    thumbs.setAttribute('aria-hidden', 'true'); // a glance for the eye; the count says how many
    for (const img of c.images.slice(0, THUMBS)) thumbs.append(thumbnail(img.rgb32));
    const add = document.createElement('label');
    add.className = 'own-add';
    const input = Object.assign(document.createElement('input'), { type: 'file', multiple: true, accept: 'image/*' });
    input.setAttribute('data-testid', `upload-class-${index}`);
    // Every row has the same visible words: the names say which class.
    input.setAttribute('aria-label', `Add images to class “${c.name}”`);
    input.addEventListener('change', async () => {
      const files = [...input.files];
      input.value = '';
      this.report(await this.addFiles(c.name, files));
    });
    add.append('Add images', input);
    const remove = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Remove', className: 'own-remove' });
    remove.setAttribute('aria-label', `Remove class “${c.name}”`);
    remove.addEventListener('click', () => this.removeClass(index));
    // Files dropped onto a row join that class.
    row.addEventListener('dragover', (e) => {
      e.preventDefault();
      row.classList.add('drop-target');
    });
    row.addEventListener('dragleave', () => row.classList.remove('drop-target'));
    row.addEventListener('drop', async (e) => {
      e.preventDefault();
      e.stopPropagation();
      row.classList.remove('drop-target');
      this.report(await this.addFiles(c.name, [...e.dataTransfer.files]));
    });
    row.append(name, count, split, thumbs, add, remove);
    return row;
  }
}

// A 32×32 colour image (channel-major bytes) as a small canvas.
function thumbnail(rgb) {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 32;
  const ctx = canvas.getContext('2d');
  const data = ctx.createImageData(32, 32);
  const plane = 32 * 32;
  for (let i = 0; i < plane; i++) {
    data.data[4 * i] = rgb[i];
    data.data[4 * i + 1] = rgb[plane + i];
    data.data[4 * i + 2] = rgb[2 * plane + i];
    data.data[4 * i + 3] = 255;
  }
  ctx.putImageData(data, 0, 0);
  return canvas;
}
