//! The embedded statistical model: multinomial logistic regression over hashed features.
//!
//! Weights are stored as one signed byte per (bucket, class) with a scale per class, so the
//! shipped file stays small (only buckets with a non-zero weight are written) and prediction
//! is one table row per feature. `Trainer` fits the float weights (Adagrad, L2, example
//! weights) and quantizes them; it can start from an existing model (a team's retraining).
//!
//! File format (little-endian): `MRCM`, u32 format version, name, version (u16 length + UTF-8),
//! u8 bucket bits, u16 classes, class names, f32 bias × C, f32 scale × C, u32 rows,
//! then rows of (u32 bucket, i8 × C).

use anyhow::{Result, bail, ensure};

use super::text::BUCKET_BITS;

const MAGIC: &[u8; 4] = b"MRCM";
const FORMAT: u32 = 1;

/// The model shipped inside the binary (trained by `scripts/train-classifier.sh`).
pub static DEFAULT_MODEL: &[u8] = include_bytes!("default-model.bin");

pub struct LinearModel {
    pub name: String,
    pub version: String,
    pub classes: Vec<String>,
    bias: Vec<f32>,
    scale: Vec<f32>,
    weights: Rows,
}

/// The rows of the weight table (one per bucket, a weight per class) that are not all zero.
/// A bit per bucket says which have one, and the rows are kept in bucket order, found by
/// counting the bits before: the shipped model's rows take a tenth of the 2.6 MB of a full
/// table, so a message's lookups stay in the cache, and loading writes no megabytes of zeros.
struct Rows {
    classes: usize,
    present: Vec<u64>,
    /// Rows before each word of `present`.
    before: Vec<u32>,
    weights: Vec<i8>,
}

impl Rows {
    /// From (bucket, row) pairs in increasing bucket order, each bucket once.
    fn from_sorted<'a>(classes: usize, rows: impl Iterator<Item = (usize, &'a [i8])>) -> Rows {
        let mut present = vec![0u64; (1usize << BUCKET_BITS) / 64];
        let mut weights = Vec::new();
        for (b, row) in rows.filter(|(_, row)| row.iter().any(|&w| w != 0)) {
            present[b / 64] |= 1 << (b % 64);
            weights.extend_from_slice(row);
        }
        let mut before = Vec::with_capacity(present.len());
        let mut n = 0;
        for bits in &present {
            before.push(n);
            n += bits.count_ones();
        }
        Rows { classes, present, before, weights }
    }

    /// From a full table, `[bucket * classes + class]`.
    fn from_table(classes: usize, table: &[i8]) -> Rows {
        Rows::from_sorted(classes, table.chunks_exact(classes).enumerate())
    }

    /// The weights of `bucket`; None when they are all zero.
    #[inline]
    fn get(&self, bucket: usize) -> Option<&[i8]> {
        let (word, bit) = (bucket / 64, bucket % 64);
        let bits = *self.present.get(word)?;
        if bits >> bit & 1 == 0 {
            return None;
        }
        let i = self.before[word] as usize + (bits & ((1u64 << bit) - 1)).count_ones() as usize;
        Some(&self.weights[i * self.classes..(i + 1) * self.classes])
    }

    /// Every row with its bucket, in bucket order.
    fn iter(&self) -> impl Iterator<Item = (usize, &[i8])> {
        let buckets = (0..self.present.len() * 64).filter(|&b| self.present[b / 64] >> (b % 64) & 1 == 1);
        buckets.zip(self.weights.chunks_exact(self.classes))
    }
}

impl LinearModel {
    /// "name version", as reported in `triage.model`.
    pub fn label(&self) -> String {
        format!("{} {}", self.name, self.version)
    }

    pub fn class_index(&self, name: &str) -> Option<usize> {
        self.classes.iter().position(|c| c == name)
    }

    /// Class probabilities for a message's feature buckets (the first `concepts` of them are
    /// lexicon concepts), written into `out` (len = classes).
    pub fn predict(&self, buckets: &[u32], concepts: usize, acc: &mut Vec<i32>, out: &mut Vec<f32>) {
        let c = self.classes.len();
        acc.clear();
        acc.resize(2 * c, 0);
        for (i, &b) in buckets.iter().enumerate() {
            let Some(row) = self.weights.get(b as usize) else { continue };
            let a = if i < concepts { &mut acc[..c] } else { &mut acc[c..] };
            for (a, &w) in a.iter_mut().zip(row) {
                *a += w as i32;
            }
        }
        let (cx, wx) = feature_values(buckets.len(), concepts);
        out.clear();
        out.extend((0..c).map(|k| self.bias[k] + self.scale[k] * (acc[k] as f32 * cx + acc[c + k] as f32 * wx)));
        softmax(out);
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<LinearModel> {
        let mut r = Reader { b: bytes, at: 0 };
        ensure!(r.take(4)? == MAGIC, "not a mailroom classifier model (bad magic)");
        let format = r.u32()?;
        ensure!(format == FORMAT, "unsupported classifier model format {format} (this build reads {FORMAT})");
        let name = r.string()?;
        let version = r.string()?;
        let bits = r.take(1)?[0] as u32;
        ensure!(bits == BUCKET_BITS, "model uses {bits} hash bits, this build uses {BUCKET_BITS}");
        let n = r.u16()? as usize;
        ensure!(n >= 2, "a model needs at least two classes");
        let classes = (0..n).map(|_| r.string()).collect::<Result<Vec<_>>>()?;
        let bias = (0..n).map(|_| r.f32()).collect::<Result<Vec<_>>>()?;
        let scale = (0..n).map(|_| r.f32()).collect::<Result<Vec<_>>>()?;
        let rows = r.u32()? as usize;
        let mut table: Vec<i8> = Vec::with_capacity(rows.min(1 << bits) * n);
        let mut order: Vec<(usize, usize)> = Vec::with_capacity(rows.min(1 << bits));
        for i in 0..rows {
            let b = r.u32()? as usize;
            ensure!(b < 1 << bits, "bucket {b} out of range");
            table.extend(r.take(n)?.iter().map(|&w| w as i8));
            order.push((b, i));
        }
        ensure!(r.at == bytes.len(), "trailing bytes after the model");
        // A bucket written twice has its last row.
        order.sort_unstable();
        order.dedup_by(|later, earlier| {
            let same = later.0 == earlier.0;
            if same {
                earlier.1 = later.1;
            }
            same
        });
        let weights = Rows::from_sorted(n, order.iter().map(|&(b, i)| (b, &table[i * n..(i + 1) * n])));
        Ok(LinearModel { name, version, classes, bias, scale, weights })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let n = self.classes.len();
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT.to_le_bytes());
        put_string(&mut out, &self.name);
        put_string(&mut out, &self.version);
        out.push(BUCKET_BITS as u8);
        out.extend_from_slice(&(n as u16).to_le_bytes());
        for c in &self.classes {
            put_string(&mut out, c);
        }
        for v in self.bias.iter().chain(&self.scale) {
            out.extend_from_slice(&v.to_le_bytes());
        }
        let rows: Vec<(usize, &[i8])> = self.weights.iter().collect();
        out.extend_from_slice(&(rows.len() as u32).to_le_bytes());
        for (b, row) in rows {
            out.extend_from_slice(&(b as u32).to_le_bytes());
            out.extend(row.iter().map(|&w| w as u8));
        }
        out
    }
}

/// Feature values: a lexicon concept counts the same in a short and a long message; each
/// occurrence of a text feature has the value 1/sqrt(n), so long and short texts score alike.
#[inline]
fn feature_values(total: usize, concepts: usize) -> (f32, f32) {
    (CONCEPT_VALUE, 1.0 / ((total - concepts).max(1) as f32).sqrt())
}

const CONCEPT_VALUE: f32 = 0.3;

fn softmax(v: &mut [f32]) {
    let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for x in v.iter_mut() {
        *x = (*x - max).exp();
        sum += *x;
    }
    for x in v.iter_mut() {
        *x /= sum;
    }
}

fn put_string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u16).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.at + n > self.b.len() {
            bail!("model file is truncated");
        }
        let s = &self.b[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }
    fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into()?))
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into()?))
    }
    fn f32(&mut self) -> Result<f32> {
        Ok(f32::from_le_bytes(self.take(4)?.try_into()?))
    }
    fn string(&mut self) -> Result<String> {
        let n = self.u16()? as usize;
        Ok(String::from_utf8(self.take(n)?.to_vec())?)
    }
}

/// One training example as feature buckets.
pub struct Sample {
    pub buckets: Vec<u32>,
    /// How many of `buckets` (at the start) are lexicon concepts.
    pub concepts: usize,
    pub class: usize,
    pub weight: f32,
}

/// Hyper-parameters; the defaults are what the shipped model uses.
#[derive(Debug, Clone, Copy)]
pub struct TrainParams {
    pub epochs: usize,
    pub learning_rate: f32,
    pub l2: f32,
    pub seed: u64,
}

impl Default for TrainParams {
    fn default() -> Self {
        TrainParams { epochs: 8, learning_rate: 0.4, l2: 1e-6, seed: 7 }
    }
}

/// Float weights being fitted.
pub struct Trainer {
    classes: Vec<String>,
    w: Vec<f32>,
    g2: Vec<f32>,
    b: Vec<f32>,
    gb2: Vec<f32>,
}

impl Trainer {
    pub fn new(classes: Vec<String>) -> Trainer {
        let n = classes.len();
        Trainer {
            w: vec![0.0; (1 << BUCKET_BITS) * n],
            g2: vec![0.0; (1 << BUCKET_BITS) * n],
            b: vec![0.0; n],
            gb2: vec![0.0; n],
            classes,
        }
    }

    /// Starts from `model`'s weights for the classes both know (retraining keeps what the
    /// shipped model learned; new classes start at zero).
    pub fn warm_start(classes: Vec<String>, model: &LinearModel) -> Trainer {
        let mut t = Trainer::new(classes);
        let n = t.classes.len();
        for (k, name) in t.classes.iter().enumerate() {
            let Some(j) = model.class_index(name) else { continue };
            t.b[k] = model.bias[j];
            for (bucket, row) in model.weights.iter() {
                if row[j] != 0 {
                    t.w[bucket * n + k] = row[j] as f32 * model.scale[j];
                }
            }
        }
        t
    }

    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    pub fn fit(&mut self, samples: &[Sample], p: TrainParams) {
        let n = self.classes.len();
        let mut order: Vec<usize> = (0..samples.len()).collect();
        let mut rng = SplitMix(p.seed);
        let mut z = vec![0f32; n];
        for _ in 0..p.epochs {
            shuffle(&mut order, &mut rng);
            for &i in &order {
                let s = &samples[i];
                let (cx, wx) = feature_values(s.buckets.len(), s.concepts);
                z[..n].copy_from_slice(&self.b[..n]);
                for (i, &bk) in s.buckets.iter().enumerate() {
                    let x = if i < s.concepts { cx } else { wx };
                    let row = &self.w[bk as usize * n..bk as usize * n + n];
                    for k in 0..n {
                        z[k] += row[k] * x;
                    }
                }
                softmax(&mut z);
                for k in 0..n {
                    let g = (z[k] - if k == s.class { 1.0 } else { 0.0 }) * s.weight;
                    self.gb2[k] += g * g;
                    self.b[k] -= p.learning_rate * g / (self.gb2[k].sqrt() + 1e-6);
                    if g.abs() < 1e-7 {
                        continue;
                    }
                    for (i, &bk) in s.buckets.iter().enumerate() {
                        let x = if i < s.concepts { cx } else { wx };
                        let idx = bk as usize * n + k;
                        let gw = g * x + p.l2 * self.w[idx];
                        self.g2[idx] += gw * gw;
                        self.w[idx] -= p.learning_rate * gw / (self.g2[idx].sqrt() + 1e-6);
                    }
                }
            }
        }
    }

    /// Quantizes into a model; weights that round to zero are dropped from the file.
    pub fn finish(self, name: &str, version: &str) -> LinearModel {
        let n = self.classes.len();
        let mut scale = vec![0f32; n];
        for k in 0..n {
            let max = (0..1usize << BUCKET_BITS).map(|b| self.w[b * n + k].abs()).fold(0f32, f32::max);
            scale[k] = if max > 0.0 { max / 127.0 } else { 1.0 };
        }
        let table: Vec<i8> =
            self.w.iter().enumerate().map(|(i, &w)| (w / scale[i % n]).round().clamp(-127.0, 127.0) as i8).collect();
        let weights = Rows::from_table(n, &table);
        LinearModel { name: name.into(), version: version.into(), classes: self.classes, bias: self.b, scale, weights }
    }
}

/// A tiny, stable PRNG so training is reproducible across platforms and crate versions.
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

pub fn shuffle<T>(v: &mut [T], rng: &mut SplitMix) {
    for i in (1..v.len()).rev() {
        let j = rng.below(i + 1);
        v.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stages::classify::text::FeatureBuf;

    fn samples(data: &[(&str, usize)]) -> Vec<Sample> {
        let mut f = FeatureBuf::default();
        data.iter()
            .map(|(t, c)| {
                f.extract("", t);
                Sample { buckets: f.buckets.clone(), concepts: f.tags.len(), class: *c, weight: 1.0 }
            })
            .collect()
    }

    #[test]
    fn trains_saves_loads_and_predicts() {
        let data = [
            ("where is my parcel", 0),
            ("my package has not arrived", 0),
            ("tracking number please", 0),
            ("I want my money back", 1),
            ("please refund me", 1),
            ("refund my order", 1),
        ];
        let mut t = Trainer::new(vec!["shipping".into(), "refund".into()]);
        t.fit(&samples(&data), TrainParams { epochs: 20, ..Default::default() });
        let model = t.finish("test", "1");
        let back = LinearModel::from_bytes(&model.to_bytes()).unwrap();
        assert_eq!(back.classes, model.classes);
        let mut f = FeatureBuf::default();
        let (mut acc, mut p) = (Vec::new(), Vec::new());
        f.extract("", "my parcel did not arrive");
        back.predict(&f.buckets, f.tags.len(), &mut acc, &mut p);
        assert!(p[0] > 0.6, "{p:?}");
        f.extract("", "I would like a refund");
        back.predict(&f.buckets, f.tags.len(), &mut acc, &mut p);
        assert!(p[1] > 0.6, "{p:?}");
    }

    #[test]
    fn warm_start_keeps_known_classes_and_adds_new_ones() {
        let mut t = Trainer::new(vec!["a".into(), "b".into()]);
        t.fit(&samples(&[("alpha words", 0), ("beta words", 1)]), TrainParams::default());
        let base = t.finish("t", "1");
        let t2 = Trainer::warm_start(vec!["b".into(), "c".into()], &base);
        assert_eq!(t2.classes(), ["b", "c"]);
        assert!(t2.w.iter().any(|&w| w != 0.0));
    }

    #[test]
    fn corrupt_files_are_errors_not_panics() {
        assert!(LinearModel::from_bytes(b"nope").is_err());
        let mut t = Trainer::new(vec!["a".into(), "b".into()]);
        t.fit(&samples(&[("x", 0), ("y", 1)]), TrainParams::default());
        let bytes = t.finish("t", "1").to_bytes();
        assert!(LinearModel::from_bytes(&bytes[..bytes.len() - 3]).is_err());
    }

    #[test]
    fn the_shipped_model_loads() {
        let m = LinearModel::from_bytes(DEFAULT_MODEL).unwrap();
        assert!(m.class_index("refund").is_some());
        // Every row read is written back as it was.
        assert!(m.to_bytes() == DEFAULT_MODEL);
        assert!(DEFAULT_MODEL.len() < 3 * 1024 * 1024);
    }
}
