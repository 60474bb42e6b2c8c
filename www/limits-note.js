// The limits the page enforces, said in words on the page: the core's (model
// size, run length, own-image datasets: src/catalog/) and the browser
// decoder's (www/image-import.js). Every number is read from where it is
// enforced, so the words cannot drift from the checks.

import { catalog } from './catalog.js';
import { LIMITS as IMAGE_LIMITS } from './image-import.js';

const count = (n) => n.toLocaleString('en-US');

// "Images up to 20 MB and 8,000 pixels a side (at least 8) …" for "Your images".
export function ownImageLimits() {
  const own = catalog().own_images;
  const heldOut = Math.round(own.held_out_share * 100);
  return (
    `Limits: images up to ${IMAGE_LIMITS.fileBytes / 1048576} MB and ${count(IMAGE_LIMITS.side)} pixels a side (at least ${IMAGE_LIMITS.smallestSide}), still images only; ` +
    `${count(own.max_images)} images and ${own.max_classes} classes in all. Each class needs at least ${own.min_per_class} images ` +
    `(${heldOut} % validation and ${heldOut} % test, at least one each; the rest train).`
  );
}

// Model size and run length, for the page's footer.
export function runLimits() {
  const c = catalog();
  const epochs = c.limits.find((l) => l.field === 'epochs');
  return (
    `Limits: models of up to ${count(c.model_size.max_params)} parameters and ${count(c.model_size.max_features)} values per image at any layer; ` +
    `runs of up to ${count(epochs.max)} epochs; a batch of at most the run’s training images.`
  );
}
