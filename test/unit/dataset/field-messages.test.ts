import { describe, expect, it } from 'vitest';
import { fieldName, LogHistogram } from '../../../shared/dataset/index.ts';
import { line, model, user, validate } from './helpers.ts';

const text = (value: string) => ({ text: value });

/** Examples with one mistake each, at some depth, with the field the message must name. */
const cases: [string, unknown, string][] = [
  [
    'an unknown field in a turn',
    { contents: [{ ...user('a'), temperature: 0.2 }, model('b')] },
    '`temperature` in contents[0]',
  ],
  ['an unknown top-level field', { contents: [user('a'), model('b')], temperature: 1 }, '`temperature`'],
  [
    'an unknown part field',
    { contents: [user('a'), { role: 'model', parts: [{ text: 'b', tone: 1 }] }] },
    '`tone` in contents[1].parts[0]',
  ],
  ['a turn that is not an object', { contents: [user('a'), 'b'] }, '`contents[1]`'],
  ['a missing role', { contents: [user('a'), { parts: [text('b')] }] }, '`contents[1].role`'],
  ['a wrong role', { contents: [user('a'), { role: 'bot', parts: [text('b')] }] }, '`contents[1].role`'],
  ['a first turn by the model', { contents: [model('a'), user('b'), model('c')] }, '`contents[0].role`'],
  ['two user turns in a row', { contents: [user('a'), user('b'), model('c')] }, '`contents[1].role`'],
  ['a last turn by the user', { contents: [user('a'), model('b'), user('c')] }, '`contents[2].role`'],
  ['missing parts', { contents: [user('a'), { role: 'model' }] }, '`contents[1].parts`'],
  ['empty parts', { contents: [user('a'), { role: 'model', parts: [] }] }, '`contents[1].parts`'],
  [
    'a part that is not an object',
    { contents: [user('a'), { role: 'model', parts: ['b'] }] },
    '`contents[1].parts[0]`',
  ],
  [
    'a part with no data',
    { contents: [user('a'), { role: 'model', parts: [{ thought: true }] }] },
    '`contents[1].parts[0]`',
  ],
  [
    'an empty text',
    { contents: [user('a'), { role: 'model', parts: [text('')] }] },
    '`contents[1].parts[0].text`',
  ],
  [
    'a text that is not a string',
    { contents: [user('a'), { role: 'model', parts: [{ text: 3 }] }] },
    '`contents[1].parts[0].text`',
  ],
  [
    'inline data that is not base64',
    {
      contents: [
        { role: 'user', parts: [{ inlineData: { mimeType: 'image/png', data: '***' } }] },
        model('b'),
      ],
    },
    '`contents[0].parts[0].inlineData.data`',
  ],
  [
    'file data without a uri',
    { contents: [{ role: 'user', parts: [{ fileData: { mimeType: 'image/png' } }] }, model('b')] },
    '`contents[0].parts[0].fileData.fileUri`',
  ],
  ['a tool that is not an object', { contents: [user('a'), model('b')], tools: [1] }, '`tools[0]`'],
  [
    'a non-text system instruction part',
    {
      contents: [user('a'), model('b')],
      systemInstruction: { parts: [{ inlineData: { mimeType: 'a', data: 'AA==' } }] },
    },
    '`systemInstruction.parts[0]`',
  ],
];

describe('messages about a field', () => {
  it.each(cases)('name the field and where it is: %s', async (_name, value, named) => {
    const report = await validate(`${line({ contents: [user('a'), model('b')] })}\n${line(value)}\n`);
    const issues = [...report.errors, ...report.warnings].filter((issue) => issue.line === 2);
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]?.message).toContain(named);
  });

  it('every finding with a path names that field, or the object it is in', async () => {
    const report = await validate(`${cases.map(([, value]) => line(value)).join('\n')}\n`);
    for (const issue of [...report.errors, ...report.warnings]) {
      if (issue.path === '') continue;
      const field = fieldName(issue.path);
      const parent = field.replace(/(\.[^.[\]]+|\[\d+\])$/, '');
      expect(
        issue.message.includes(`\`${field}\``) ||
          (parent !== '' && issue.message.includes(parent)) ||
          issue.message.includes(`\`${field.split('.').pop()}\``),
        `${issue.code} at ${issue.path}: ${issue.message}`,
      ).toBe(true);
    }
  });

  it('turns pointers into field names as a person writes them', () => {
    expect(fieldName('/contents/0/parts/12/text')).toBe('contents[0].parts[12].text');
    expect(fieldName('/systemInstruction/parts/0')).toBe('systemInstruction.parts[0]');
    expect(fieldName('/a~1b/c~0d')).toBe('a/b.c~d');
    expect(fieldName('')).toBe('');
  });
});

describe('the token histogram of a report', () => {
  it('counts examples per power-of-two range of tokens, empty ranges between included', () => {
    const histogram = new LogHistogram();
    for (const value of [0, 3, 3, 40, 41, 300]) histogram.add(value);
    expect(histogram.bins()).toEqual([
      { from: 0, to: 1, count: 1 },
      { from: 1, to: 2, count: 0 },
      { from: 2, to: 4, count: 2 },
      { from: 4, to: 8, count: 0 },
      { from: 8, to: 16, count: 0 },
      { from: 16, to: 32, count: 0 },
      { from: 32, to: 64, count: 2 },
      { from: 64, to: 128, count: 0 },
      { from: 128, to: 256, count: 0 },
      { from: 256, to: 512, count: 1 },
    ]);
    expect(new LogHistogram().bins()).toEqual([]);
  });

  it('is in the report, and sums to the valid examples', async () => {
    const short = { contents: [user('hi'), model('hello')] };
    const long = { contents: [user('x'.repeat(2000)), model('y'.repeat(2000))] };
    const report = await validate(`${[short, short, long].map(line).join('\n')}\n`);
    const bins = report.stats.tokens.histogram ?? [];
    expect(bins.reduce((sum, bin) => sum + bin.count, 0)).toBe(report.stats.validExamples);
    expect(bins[0]?.count).toBe(2);
    expect(bins.at(-1)?.count).toBe(1);
    expect(bins.at(-1)!.to).toBeGreaterThan(report.stats.tokens.max);
  });
});
