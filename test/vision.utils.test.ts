// torch.vision.utils against torchvision.utils itself (torchvision 0.28's pure-Python parts, installed into
// .reference/ by the test helper; its compiled ops are a CUDA build, so its _meta_registrations is
// stubbed, as the issue describes): makeGrid value for value, saveImage's pixels, toImage as to_pil_image.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import * as torch from '../lib/index';
import { PyTorch, expectClose } from './helpers/pytorch';

const { makeGrid, saveImage, toImage } = torch.vision.utils;
let py: PyTorch;
let dir: string;
const q = (s: string) => JSON.stringify(s);
const TV = `
import sys, types
sys.modules.setdefault('torchvision._meta_registrations', types.ModuleType('torchvision._meta_registrations'))
import torchvision.utils as U
import torchvision.transforms.functional as TF
import numpy as np
`;

beforeAll(async () => {
  py = await PyTorch.start({ packages: ['torchvision', 'pillow', 'numpy'] });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torchnode-vision-'));
}, 120_000);
afterAll(() => {
  py?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** The decoded pixels of an image file: H×W×C bytes. */
async function pixels(file: string): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

describe('makeGrid equals torchvision.utils.make_grid', () => {
  torch.manualSeed(0);
  const batch = torch.randn(5, 3, 6, 7);
  const cases: [string, torch.Tensor | torch.Tensor[], torch.vision.utils.MakeGridOptions, string][] = [
    ['a batch, defaults', batch, {}, ''],
    ['nrow, padding, padValue', batch, { nrow: 2, padding: 1, padValue: 0.5 }, 'nrow=2, padding=1, pad_value=0.5'],
    ['normalize over all', batch, { normalize: true }, 'normalize=True'],
    ['normalize each', batch, { normalize: true, scaleEach: true }, 'normalize=True, scale_each=True'],
    ['normalize by a value range', batch, { normalize: true, valueRange: [-1, 1] }, 'normalize=True, value_range=(-1, 1)'],
    [
      'normalize each by a value range',
      batch,
      { normalize: true, valueRange: [-0.5, 2], scaleEach: true },
      'normalize=True, value_range=(-0.5, 2), scale_each=True',
    ],
    ['one-channel images', torch.rand(4, 1, 5, 5), { nrow: 3 }, 'nrow=3'],
    ['an array of images', [torch.rand(3, 4, 4), torch.rand(3, 4, 4), torch.rand(3, 4, 4)], {}, ''],
    ['one H×W image', torch.rand(5, 6), {}, ''],
    ['one 1×H×W image', torch.rand(1, 5, 6), { padding: 3 }, 'padding=3'],
    ['uint8 images', torch.randint(0, 256, [3, 3, 4, 4], { dtype: 'uint8' }), { padValue: 255 }, 'pad_value=255'],
    ['fewer images than nrow, no padding', batch.narrow(0, 0, 3), { padding: 0 }, 'padding=0'],
    ['a constant image normalized (range 0)', torch.ones(2, 3, 2, 2), { normalize: true }, 'normalize=True'],
  ];
  for (const [name, images, opts, pyArgs] of cases) {
    it(name, async () => {
      const expected = await py.run<torch.Tensor>(
        `${TV}
out = U.make_grid(x if isinstance(x, torch.Tensor) else list(x)${pyArgs ? `, ${pyArgs}` : ''})`,
        { x: images },
      );
      expectClose(makeGrid(images, opts), expected, { rtol: 0, atol: 0 });
    });
  }

  it('leaves its input as it was, and checks its arguments', () => {
    const x = torch.randn(2, 3, 4, 4);
    const before = x.clone();
    makeGrid(x, { normalize: true });
    expect(x.equal(before)).toBe(true);
    expect(() => makeGrid(x, { nrow: 0 })).toThrow(/nrow must be an integer of at least 1/);
    expect(() => makeGrid(x, { valueRange: [0] as never })).toThrow(/valueRange must be \[min, max\]/);
    expect(() => makeGrid(x, { scale_each: true } as never)).toThrow(/unknown option 'scale_each' \(torchnode's name is 'scaleEach'\)/);
    expect(() => makeGrid([x, 1] as never)).toThrow(/images\[1\] must be a Tensor/);
    expect(() => makeGrid(torch.ones(2, 2, 2, 2, 2))).toThrow(/B×C×H×W, C×H×W or H×W/);
  });
});

describe('saveImage and toImage', () => {
  it("saveImage writes save_image's pixels: PNG the same bytes, JPEG and WebP readable", async () => {
    torch.manualSeed(1);
    const images = torch.rand(6, 3, 10, 12);
    await saveImage(images, path.join(dir, 'node.png'), { nrow: 3, padding: 1 });
    await py.run(
      `${TV}
U.save_image(x, ${q(path.join(dir, 'py.png'))}, nrow=3, padding=1)
out = None`,
      { x: images },
    );
    const ours = await pixels(path.join(dir, 'node.png'));
    const theirs = await pixels(path.join(dir, 'py.png'));
    expect([ours.width, ours.height, ours.channels]).toEqual([theirs.width, theirs.height, theirs.channels]);
    expect(ours.data.equals(theirs.data)).toBe(true);
    // and the bytes are the grid's, scaled as save_image scales them
    const grid = makeGrid(images, { nrow: 3, padding: 1 }).mul(255).add(0.5).clamp(0, 255).to('uint8').permute(1, 2, 0).contiguous();
    expect(Buffer.from(grid.data() as Uint8Array).equals(ours.data)).toBe(true);
    for (const ext of ['jpg', 'webp']) {
      await saveImage(images, path.join(dir, `node.${ext}`));
      const meta = await sharp(path.join(dir, `node.${ext}`)).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual([ext === 'jpg' ? 'jpeg' : 'webp', 6 * (12 + 2) + 2, 10 + 2 * 2]);
    }
    await expect(saveImage(images, path.join(dir, 'node.bmp'))).rejects.toThrow(/cannot tell the format/);
    expect(fs.existsSync(path.join(dir, 'node.bmp'))).toBe(false);
  });

  it("toImage gives to_pil_image's pixels: RGB float, gray float, uint8", async () => {
    torch.manualSeed(2);
    const cases = [torch.rand(3, 5, 4), torch.rand(1, 5, 4), torch.rand(5, 4), torch.randint(0, 256, [3, 2, 3], { dtype: 'uint8' })];
    for (const t of cases) {
      const expected = await py.run<torch.Tensor>(
        `${TV}
img = TF.to_pil_image(x)
out = torch.from_numpy(np.array(img)).reshape(img.height, img.width, -1)`,
        { x: t },
      );
      const { data, info } = await toImage(t).raw().toBuffer({ resolveWithObject: true });
      expect([info.height, info.width, info.channels]).toEqual(expected.shape);
      expect(Buffer.from(data).equals(Buffer.from(expected.contiguous().data() as Uint8Array))).toBe(true);
    }
    expect(() => toImage(torch.rand(2, 4, 4))).toThrow(/1, 3 or 4 channels/);
    expect(() => toImage(torch.ones(3, 2, 2, { dtype: 'int32' }))).toThrow(/floating point .* or uint8/);
  });

  it("a layer's feature maps as a grid, through a forward hook (the README's example)", async () => {
    torch.manualSeed(0);
    const model = torch.models.seResNet18({ stem: 'cifar', numClasses: 10, width: 16 }).eval();
    let maps: torch.Tensor | null = null;
    const hook = model.layer1.registerForwardHook((_m, _inputs, output) => {
      maps = torch.keep((output as torch.Tensor).select(0, 0).unsqueeze(1)); // C×1×H×W: one map per channel
    });
    torch.scope(() => torch.noGrad(() => model(torch.randn(1, 3, 32, 32))));
    hook.remove();
    await saveImage(maps!, path.join(dir, 'layer1.png'), { nrow: 4, normalize: true, scaleEach: true });
    const { width, height, channels } = await pixels(path.join(dir, 'layer1.png'));
    expect([width, height, channels]).toEqual([4 * 34 + 2, 4 * 34 + 2, 3]); // 16 maps of 32×32
  });
});
