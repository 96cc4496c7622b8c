import { it } from 'vitest';
import * as torch from '../lib/index';
const { models, nn } = torch;
function tryit(name: string, f: () => unknown) {
  try { const r = f(); console.log(name, 'OK', r && (r as any).shape); } catch (e) { console.log(name, (e as Error).constructor.name, JSON.stringify((e as Error).message)); }
}
it('explore', () => {
  const m = models.seResNet18();
  tryit('rank3', () => m(torch.randn([3, 64, 64])));
  tryit('ch1', () => m(torch.randn([1, 1, 64, 64])));
  const m2 = models.seResNet18(); m2.eval();
  tryit('ch1 eval', () => m2(torch.randn([1, 1, 64, 64])));
  tryit('layer1 direct', () => m.layer1(torch.randn([1, 32, 16, 16])));
  const fcbad = models.seResNet18(); fcbad.fc = new nn.Linear(100, 10);
  tryit('fc', () => fcbad(torch.randn([1, 3, 64, 64])));
  tryit('bn3d', () => new nn.BatchNorm2d(4)(torch.randn([2, 4, 5])));
  tryit('conv neg', () => new nn.Conv2d(-1, 4, 3));
  tryit('conv k0', () => new nn.Conv2d(3, 4, 0));
  tryit('conv groups', () => new nn.Conv2d(3, 4, 3, { groups: 2 }));
  tryit('drop', () => new nn.Dropout(1.5));
  tryit('se red', () => new models.SEModule(8, { reduction: 16 }));
  tryit('se gate', () => new models.SEModule(64, { gate: 'relu' as any }));
  tryit('se impl', () => new models.SEModule(64, { impl: 'x' as any }));
  tryit('linear neg', () => new nn.Linear(-1, 3));
  tryit('bn neg', () => new nn.BatchNorm2d(0));
  tryit('conv k0 fwd', () => new nn.Conv2d(3, 4, 0)(torch.randn([1,3,8,8])));
  tryit('maxpool 0', () => new nn.MaxPool2d(0));
  tryit('conv stride0', () => new nn.Conv2d(3, 4, 3, { stride: 0 }));
  tryit('conv 1.5', () => new nn.Conv2d(3.5, 4, 3));
  tryit('dropout -0.1', () => new nn.Dropout(-0.1));
  tryit('dropout NaN', () => new nn.Dropout(NaN));
  tryit('se ch 0', () => new models.SEModule(0));
  tryit('se red 0', () => new models.SEModule(64, { reduction: 0 }));
  tryit('se red -1', () => new models.SEModule(64, { reduction: -4 }));
  tryit('kernel pair', () => new nn.Conv2d(3, 4, [3, 0]));
  tryit('kernel pair neg', () => new nn.Conv2d(3, 4, -3));
  const c = new nn.Conv2d(3, 8, 3); const w = c.weight; c.to({ memoryFormat: 'channels_last' }); console.log(w === c.weight, c.weight.stride(), c.weight.shape, c.weight.isContiguous());
  const bn = new nn.BatchNorm2d(3); const rm = bn.running_mean; bn.to('float64'); console.log(bn.weight!.dtype, bn.running_mean!.dtype, bn.num_batches_tracked!.dtype, rm === bn.running_mean);
});
