// Two models written the way PyTorch's examples write them — the word-level LSTM language model of
// pytorch/examples and a small Transformer-encoder classifier — trained 20 steps in Node and in Python
// from Python's initial weights on the same data, dropout on (the same seed gives the same masks). The
// losses of every step agree within 1e-5, and so do the trained weights.
import { describe, expect, it } from 'vitest';
import * as torch from '../lib/index';
import { usePyTorch, expectClose } from './helpers/pytorch';

const { nn, optim } = torch;
const F = nn.functional;
type Tensor = torch.Tensor;
const py = usePyTorch();

// ---- the LSTM language model (pytorch/examples word_language_model, RNNModel with LSTM) ----
class RNNModel extends nn.Module {
  drop: torch.nn.Dropout;
  encoder: torch.nn.Embedding;
  rnn: torch.nn.LSTM;
  decoder: torch.nn.Linear;
  constructor(
    readonly ntoken: number,
    ninp: number,
    readonly nhid: number,
    readonly nlayers: number,
    dropout = 0.5,
  ) {
    super();
    this.drop = new nn.Dropout(dropout);
    this.encoder = new nn.Embedding(ntoken, ninp);
    this.rnn = new nn.LSTM(ninp, nhid, nlayers, { dropout });
    this.decoder = new nn.Linear(nhid, ntoken);
  }
  forward(input: Tensor, hidden: [Tensor, Tensor]): [Tensor, [Tensor, Tensor]] {
    const emb = this.drop(this.encoder(input));
    const [output, next] = this.rnn(emb, hidden) as unknown as [Tensor, [Tensor, Tensor]];
    const decoded = this.decoder(this.drop(output)).view(-1, this.ntoken);
    return [F.logSoftmax(decoded, 1), next];
  }
  initHidden(bsz: number): [Tensor, Tensor] {
    return [torch.zeros(this.nlayers, bsz, this.nhid), torch.zeros(this.nlayers, bsz, this.nhid)];
  }
}
const PY_RNN_MODEL = `
class RNNModel(nn.Module):
    def __init__(self, ntoken, ninp, nhid, nlayers, dropout=0.5):
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, nhid, nlayers, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        self.init_weights()
        self.nhid, self.nlayers = nhid, nlayers
    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)
    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output).view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden
    def init_hidden(self, bsz):
        return (torch.zeros(self.nlayers, bsz, self.nhid), torch.zeros(self.nlayers, bsz, self.nhid))
`;

// ---- the Transformer-encoder classifier (the tutorials' PositionalEncoding + TransformerEncoder) ----
class PositionalEncoding extends nn.Module {
  dropout: torch.nn.Dropout;
  declare pe: Tensor;
  constructor(dModel: number, dropout = 0.1, maxLen = 64) {
    super();
    this.dropout = new nn.Dropout(dropout);
    const position = torch.arange(maxLen).unsqueeze(1);
    const divTerm = torch.exp(torch.arange(0, dModel, 2).mul(-Math.log(10000.0) / dModel));
    const pe = torch.zeros(maxLen, 1, dModel);
    pe.index(':', 0, '0::2').copy_(torch.sin(position.mul(divTerm)));
    pe.index(':', 0, '1::2').copy_(torch.cos(position.mul(divTerm)));
    this.registerBuffer('pe', pe);
  }
  forward(x: Tensor): Tensor {
    return this.dropout(x.add(this.pe.index(`:${x.shape[0]}`)));
  }
}
class TransformerClassifier extends nn.Module {
  embedding: torch.nn.Embedding;
  pos_encoder: PositionalEncoding;
  transformer_encoder: torch.nn.TransformerEncoder;
  classifier: torch.nn.Linear;
  constructor(
    ntoken: number,
    readonly dModel: number,
    nhead: number,
    dHid: number,
    nlayers: number,
    nclass: number,
    dropout = 0.1,
  ) {
    super();
    this.embedding = new nn.Embedding(ntoken, dModel);
    this.pos_encoder = new PositionalEncoding(dModel, dropout);
    this.transformer_encoder = new nn.TransformerEncoder(new nn.TransformerEncoderLayer(dModel, nhead, dHid, dropout), nlayers);
    this.classifier = new nn.Linear(dModel, nclass);
  }
  forward(src: Tensor): Tensor {
    let x = this.embedding(src).mul(Math.sqrt(this.dModel));
    x = this.pos_encoder(x);
    x = this.transformer_encoder(x);
    return this.classifier(x.mean(0));
  }
}
const PY_CLASSIFIER = `
class PositionalEncoding(nn.Module):
    def __init__(self, d_model, dropout=0.1, max_len=64):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, 1, d_model)
        pe[:, 0, 0::2] = torch.sin(position * div_term)
        pe[:, 0, 1::2] = torch.cos(position * div_term)
        self.register_buffer('pe', pe)
    def forward(self, x):
        return self.dropout(x + self.pe[:x.size(0)])
class TransformerClassifier(nn.Module):
    def __init__(self, ntoken, d_model, nhead, d_hid, nlayers, nclass, dropout=0.1):
        super().__init__()
        self.d_model = d_model
        self.embedding = nn.Embedding(ntoken, d_model)
        self.pos_encoder = PositionalEncoding(d_model, dropout)
        self.transformer_encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(d_model, nhead, d_hid, dropout), nlayers)
        self.classifier = nn.Linear(d_model, nclass)
    def forward(self, src):
        x = self.embedding(src) * math.sqrt(self.d_model)
        x = self.pos_encoder(x)
        x = self.transformer_encoder(x)
        return self.classifier(x.mean(0))
`;

const TOL = { rtol: 1e-5, atol: 1e-6 };

describe('PyTorch examples, transcribed, train as in Python', () => {
  it('the LSTM language model: 20 steps of SGD with gradient clipping (pytorch/examples)', async () => {
    torch.manualSeed(0);
    const [ntoken, bptt, bsz] = [50, 7, 4];
    const data = torch.randint(0, ntoken, [20 * bptt + 1, bsz]);
    const ref = await py.run<{ state: Record<string, Tensor>; losses: number[]; after: Record<string, Tensor> }>(
      `import math
from torch import nn
${PY_RNN_MODEL}
torch.manual_seed(1)
model = RNNModel(50, 16, 24, 2, 0.2)
state = {k: v.clone() for k, v in model.state_dict().items()}
torch.manual_seed(2)
opt = torch.optim.SGD(model.parameters(), lr=1.0)
criterion = nn.NLLLoss()
model.train()
hidden = model.init_hidden(4)
losses = []
for i in range(20):
    x, y = data[i * 7:(i + 1) * 7], data[i * 7 + 1:(i + 1) * 7 + 1].reshape(-1)
    hidden = tuple(h.detach() for h in hidden)
    model.zero_grad()
    output, hidden = model(x, hidden)
    loss = criterion(output, y)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
    opt.step()
    losses.append(loss.item())
out = {'state': state, 'losses': losses, 'after': model.state_dict()}`,
      { data },
    );

    const model = new RNNModel(ntoken, 16, 24, 2, 0.2);
    model.loadStateDict(ref.state);
    torch.manualSeed(2);
    const opt = new optim.SGD(model.parameters(), 1.0);
    const criterion = new nn.NLLLoss();
    model.train();
    let hidden = model.initHidden(bsz);
    const losses: number[] = [];
    for (let i = 0; i < 20; i++) {
      torch.scope(() => {
        const x = data.index(`${i * bptt}:${(i + 1) * bptt}`);
        const y = data.index(`${i * bptt + 1}:${(i + 1) * bptt + 1}`).reshape(-1);
        const h: [Tensor, Tensor] = [hidden[0].detach(), hidden[1].detach()];
        model.zeroGrad();
        const [output, next] = model.forward(x, h);
        const loss = criterion(output, y);
        loss.backward();
        nn.utils.clipGradNorm_(model.parameters(), 0.25);
        opt.step();
        losses.push(loss.item() as number);
        hidden = [torch.keep(next[0]), torch.keep(next[1])];
      });
    }
    losses.forEach((l, i) =>
      expect(Math.abs(l - ref.losses[i]), `step ${i}: ${l} vs ${ref.losses[i]}`).toBeLessThanOrEqual(1e-5 * Math.abs(ref.losses[i])),
    );
    const after = model.stateDict();
    for (const [k, v] of Object.entries(ref.after)) expectClose(after[k], v, TOL);
  });

  it("the Transformer-encoder classifier: 20 steps of Adam (the tutorials' PositionalEncoding)", async () => {
    torch.manualSeed(0);
    const src = torch.randint(0, 40, [20, 10, 8]); // 20 batches of (seq 10, batch 8)
    const labels = torch.randint(0, 3, [20, 8]);
    const ref = await py.run<{ state: Record<string, Tensor>; losses: number[]; after: Record<string, Tensor> }>(
      `import math
from torch import nn
${PY_CLASSIFIER}
torch.manual_seed(1)
model = TransformerClassifier(40, 16, 2, 32, 2, 3, 0.1)
state = {k: v.clone() for k, v in model.state_dict().items()}
torch.manual_seed(3)
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()
model.train()
losses = []
for i in range(20):
    opt.zero_grad()
    loss = criterion(model(src[i]), labels[i])
    loss.backward()
    opt.step()
    losses.append(loss.item())
out = {'state': state, 'losses': losses, 'after': model.state_dict()}`,
      { src, labels },
    );

    const model = new TransformerClassifier(40, 16, 2, 32, 2, 3, 0.1);
    model.loadStateDict(ref.state);
    torch.manualSeed(3);
    const opt = new optim.Adam(model.parameters(), 1e-3);
    const criterion = new nn.CrossEntropyLoss();
    model.train();
    const losses: number[] = [];
    for (let i = 0; i < 20; i++) {
      torch.scope(() => {
        opt.zeroGrad();
        const loss = criterion(model(src.select(0, i)), labels.select(0, i));
        loss.backward();
        opt.step();
        losses.push(loss.item() as number);
      });
    }
    losses.forEach((l, i) =>
      expect(Math.abs(l - ref.losses[i]), `step ${i}: ${l} vs ${ref.losses[i]}`).toBeLessThanOrEqual(1e-5 * Math.abs(ref.losses[i])),
    );
    const after = model.stateDict();
    for (const [k, v] of Object.entries(ref.after)) {
      if (!k.endsWith('in_proj_bias')) {
        expectClose(after[k], v, TOL);
        continue;
      }
      // The key bias has no gradient in exact arithmetic (softmax ignores a constant added to every score),
      // so its gradient is rounding noise, which Adam scales up to steps of ~lr whatever its sign: compare
      // the query and value thirds only.
      const e = v.shape[0] / 3;
      for (const start of [0, 2 * e]) expectClose(after[k].narrow(0, start, e), v.narrow(0, start, e), TOL);
    }
  });
});
