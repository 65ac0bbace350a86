/**
 * Task presets for the other text-classification sets of the healbert paper (Han, Zhang, Simion 2024):
 * each names its files under `<data-root>/<dir>/`, their format and columns, and the label names in
 * Hugging Face's order. The paper scores them with F1: binary sets report F1 of the positive class,
 * multi-class sets macro-F1 first (weighted-F1 and accuracy alongside).
 */
import type { MetricName } from './metrics.js';
import type { TextFileOptions } from './text-files.js';

/** One split of a text-classification preset: its file and how to read it. */
export interface FileSplit extends TextFileOptions {
  /** Path under the task folder. */
  file: string;
}

/** A text-classification preset: its folder, splits, labels and metrics. */
export interface TextClassificationTask {
  kind: 'textcls';
  name: string;
  /** Folder under the data root. */
  dir: string;
  labelNames: string[];
  isRegression: false;
  metrics: MetricName[];
  splits: Record<string, FileSplit>;
  splitAliases: Record<string, string>;
}

const multiClass: MetricName[] = ['macro_f1', 'weighted_f1', 'accuracy'];

/** The text-classification presets beyond GLUE. */
export const TEXT_CLASSIFICATION_PRESETS: readonly TextClassificationTask[] = [
  {
    // GLUE's SST-2 files, scored as in the paper.
    kind: 'textcls',
    name: 'sst2-f1',
    dir: 'SST-2',
    labelNames: ['negative', 'positive'],
    isRegression: false,
    metrics: ['f1', 'accuracy'],
    splits: {
      train: { file: 'train.tsv', format: 'tsv', text: 'sentence', label: 'label', labels: { '0': 0, '1': 1 } },
      dev: { file: 'dev.tsv', format: 'tsv', text: 'sentence', label: 'label', labels: { '0': 0, '1': 1 } },
    },
    splitAliases: { validation: 'dev' },
  },
  {
    // aclImdb v1: one review per file under {train,test}/{neg,pos}/, as a folder or its .tar.gz.
    kind: 'textcls',
    name: 'imdb',
    dir: 'imdb',
    labelNames: ['neg', 'pos'],
    isRegression: false,
    metrics: ['f1', 'accuracy'],
    splits: {
      train: { file: 'train', format: 'aclimdb', text: 'text', label: 'label', labels: { neg: 0, pos: 1 } },
      test: { file: 'test', format: 'aclimdb', text: 'text', label: 'label', labels: { neg: 0, pos: 1 } },
    },
    splitAliases: {},
  },
  {
    // ag_news_csv: no header; class (1-4), title, description. Text is "title description", as in HF's loader.
    kind: 'textcls',
    name: 'ag_news',
    dir: 'ag_news',
    labelNames: ['World', 'Sports', 'Business', 'Sci/Tech'],
    isRegression: false,
    metrics: multiClass,
    splits: {
      train: { file: 'train.csv', format: 'csv', header: false, text: [1, 2], label: 0, labels: { '1': 0, '2': 1, '3': 2, '4': 3 } },
      test: { file: 'test.csv', format: 'csv', header: false, text: [1, 2], label: 0, labels: { '1': 0, '2': 1, '3': 2, '4': 3 } },
    },
    splitAliases: {},
  },
  {
    // dair-ai/emotion (CARER) original files: "text;label" per line, no header.
    kind: 'textcls',
    name: 'emotion',
    dir: 'emotion',
    labelNames: ['sadness', 'joy', 'love', 'anger', 'fear', 'surprise'],
    isRegression: false,
    metrics: multiClass,
    splits: {
      train: { file: 'train.txt', format: 'csv', delimiter: ';', quote: false, header: false, text: 0, label: 1 },
      validation: { file: 'val.txt', format: 'csv', delimiter: ';', quote: false, header: false, text: 0, label: 1 },
      test: { file: 'test.txt', format: 'csv', delimiter: ';', quote: false, header: false, text: 0, label: 1 },
    },
    splitAliases: { dev: 'validation' },
  },
  {
    // dbpedia_csv: no header; class (1-14), title, content. Text is the content, HF's `content` field.
    kind: 'textcls',
    name: 'dbpedia_14',
    dir: 'dbpedia_14',
    labelNames: [
      'Company',
      'EducationalInstitution',
      'Artist',
      'Athlete',
      'OfficeHolder',
      'MeanOfTransportation',
      'Building',
      'NaturalPlace',
      'Village',
      'Animal',
      'Plant',
      'Album',
      'Film',
      'WrittenWork',
    ],
    isRegression: false,
    metrics: multiClass,
    splits: {
      train: { file: 'train.csv', format: 'csv', header: false, text: 2, label: 0, labelOffset: 1 },
      test: { file: 'test.csv', format: 'csv', header: false, text: 2, label: 0, labelOffset: 1 },
    },
    splitAliases: {},
  },
  {
    // zeroshot/twitter-financial-news-topic: Parquet (or CSV) with `text` and an integer `label` 0-19.
    kind: 'textcls',
    name: 'twitter_financial_news_topic',
    dir: 'twitter-financial-news-topic',
    labelNames: [
      'Analyst Update',
      'Fed | Central Banks',
      'Company | Product News',
      'Treasuries | Corporate Debt',
      'Dividend',
      'Earnings',
      'Energy | Oil',
      'Financials',
      'Currencies',
      'General News | Opinion',
      'Gold | Metals | Materials',
      'IPO',
      'Legal | Regulation',
      'M&A | Investments',
      'Macro',
      'Markets',
      'Politics',
      'Personnel Change',
      'Stock Commentary',
      'Stock Movement',
    ],
    isRegression: false,
    metrics: multiClass,
    splits: {
      train: { file: 'train.parquet', format: 'parquet', text: 'text', label: 'label', labelOffset: 0 },
      validation: { file: 'validation.parquet', format: 'parquet', text: 'text', label: 'label', labelOffset: 0 },
    },
    splitAliases: { dev: 'validation' },
  },
];
