/**
 * Where an image file's pages are, for readers on any platform (Node's files, the browser's Blobs):
 * a raw image is pages from byte 0 to its end; an ELF core's pages are its loadable segments
 * (elf-core.ts). A range's tail that is not a whole page is read as a page padded with zeros.
 */
import { PAGE_SIZE } from '../generated/core-abi.js';

/** What is wrong with an image file; the CLI shows it as an input error, the demo on the page. */
export class ImageError extends Error {
  override name = 'ImageError';
}

/** `length` bytes of the file from `offset`: pages in address order. */
export interface ByteRange { offset: number; length: number }

/** Pages of a set of ranges (each range's tail padded to a whole page). */
export const pagesOf = (ranges: readonly ByteRange[]): number =>
  ranges.reduce((n, r) => n + Math.ceil(r.length / PAGE_SIZE), 0);

/** A raw image of `size` bytes: one range, every 4096 bytes one present page. */
export function rawImageRanges(name: string, size: number): ByteRange[] {
  if (size === 0) throw new ImageError(`${name}: empty file (an image needs at least one page of ${PAGE_SIZE} bytes)`);
  if (size % PAGE_SIZE !== 0) {
    throw new ImageError(`${name}: size ${size} bytes is not a multiple of ${PAGE_SIZE} (not a raw image, and not an ELF core file)`);
  }
  return [{ offset: 0, length: size }];
}
