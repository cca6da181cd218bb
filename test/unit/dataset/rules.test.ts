import { describe, expect, it } from 'vitest';
import { requireModel } from '../../../shared/dataset/index.ts';
import { codes, example, line, lineWarnings, model, user, validate } from './helpers.ts';

/** The errors of one example, checked against a catalog entry as it is (retired or not). */
async function errorsFor(value: unknown, modelId = 'gemini-3.5-flash') {
  const report = await validate(`${line(value)}\n`, { model: requireModel(modelId) });
  return report.errors;
}

describe('example rules', () => {
  it('accepts a user/model exchange with a system instruction and tools', async () => {
    const report = await validate(
      `${line(example({ systemInstruction: { parts: [{ text: 'Be brief.' }] }, tools: [{ functionDeclarations: [] }] }))}\n`,
    );
    expect(report.errors).toEqual([]);
    expect(report.valid).toBe(true);
  });

  it('reports a line that is not a JSON object', async () => {
    expect((await errorsFor([1, 2]))[0]).toMatchObject({ line: 1, code: 'not_object', path: '' });
    expect((await errorsFor('text'))[0]?.code).toBe('not_object');
  });

  it('requires contents as a non-empty list', async () => {
    expect((await errorsFor({ foo: 1 }))[0]).toMatchObject({ code: 'missing_contents', path: '/contents' });
    expect((await errorsFor({ contents: {} }))[0]?.code).toBe('invalid_contents');
    expect((await errorsFor({ contents: [] }))[0]?.code).toBe('empty_contents');
  });

  it('requires roles user or model, with a hint for assistant', async () => {
    const errors = await errorsFor({ contents: [user('a'), { role: 'assistant', parts: [{ text: 'b' }] }] });
    expect(errors[0]).toMatchObject({ code: 'invalid_role', path: '/contents/1/role' });
    expect(errors[0]?.message).toContain('use "model"');
    expect((await errorsFor({ contents: [user('a'), { parts: [{ text: 'b' }] }] }))[0]?.code).toBe(
      'missing_role',
    );
  });

  it('requires alternating roles, starting with user and ending with model', async () => {
    expect(await errorsFor({ contents: [user('a'), model('b'), user('c'), model('d')] })).toEqual([]);
    expect((await errorsFor({ contents: [model('a'), user('b'), model('c')] }))[0]).toMatchObject({
      code: 'first_role',
      path: '/contents/0/role',
    });
    expect((await errorsFor({ contents: [user('a'), model('b'), user('c')] }))[0]).toMatchObject({
      code: 'last_role',
      path: '/contents/2/role',
    });
    expect((await errorsFor({ contents: [user('a'), model('b'), model('c')] }))[0]).toMatchObject({
      code: 'role_order',
      path: '/contents/2/role',
    });
  });

  it('requires each turn to be an object with a non-empty parts list', async () => {
    expect((await errorsFor({ contents: ['hi', model('b')] }))[0]?.code).toBe('invalid_turn');
    expect((await errorsFor({ contents: [{ role: 'user' }, model('b')] }))[0]).toMatchObject({
      code: 'missing_parts',
      path: '/contents/0/parts',
    });
    expect((await errorsFor({ contents: [{ role: 'user', parts: 'hi' }, model('b')] }))[0]?.code).toBe(
      'invalid_parts',
    );
    expect((await errorsFor({ contents: [{ role: 'user', parts: [] }, model('b')] }))[0]?.code).toBe(
      'empty_parts',
    );
    expect((await errorsFor({ contents: [{ role: 'user', parts: ['hi'] }, model('b')] }))[0]?.code).toBe(
      'invalid_part',
    );
  });

  it('requires text to be a non-empty string', async () => {
    expect((await errorsFor({ contents: [user(''), model('b')] }))[0]).toMatchObject({
      code: 'empty_text',
      path: '/contents/0/parts/0/text',
    });
    expect(
      (await errorsFor({ contents: [{ role: 'user', parts: [{ text: 3 }] }, model('b')] }))[0]?.code,
    ).toBe('invalid_text');
  });

  it('requires exactly one data field per part', async () => {
    const none = { contents: [{ role: 'user', parts: [{ thought: true }] }, model('b')] };
    expect((await errorsFor(none))[0]).toMatchObject({ code: 'part_no_data', path: '/contents/0/parts/0' });
    const two = {
      contents: [
        { role: 'user', parts: [{ text: 'a', fileData: { mimeType: 'x', fileUri: 'gs://b/o' } }] },
        model('b'),
      ],
    };
    expect((await errorsFor(two))[0]?.code).toBe('part_multiple_data');
  });

  it('checks every data field of the Part oneof', async () => {
    const withPart = (part: unknown) => ({ contents: [{ role: 'user', parts: [part] }, model('b')] });
    const valid = [
      { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
      { fileData: { mimeType: 'application/pdf', fileUri: 'gs://bucket/doc.pdf' } },
      { functionResponse: { name: 'lookup', response: { ok: true } } },
      { executableCode: { language: 'PYTHON', code: 'print(1)' } },
      { codeExecutionResult: { outcome: 'OUTCOME_OK', output: '1' } },
    ];
    for (const part of valid) expect(await errorsFor(withPart(part))).toEqual([]);
    expect(
      await errorsFor(withPart({ functionCall: { name: 'lookup', args: {} } }), 'gemini-2.0-flash-001'),
    ).toEqual([]);
    const invalid: [unknown, string, string][] = [
      [
        { inlineData: { mimeType: 'image/png' } },
        'invalid_inline_data',
        '/contents/0/parts/0/inlineData/data',
      ],
      [{ fileData: { fileUri: 'gs://b/o' } }, 'invalid_file_data', '/contents/0/parts/0/fileData/mimeType'],
      [
        { functionResponse: { name: 'x' } },
        'invalid_function_response',
        '/contents/0/parts/0/functionResponse/response',
      ],
      [
        { executableCode: { language: 'PYTHON' } },
        'invalid_executable_code',
        '/contents/0/parts/0/executableCode',
      ],
      [
        { codeExecutionResult: {} },
        'invalid_code_execution_result',
        '/contents/0/parts/0/codeExecutionResult',
      ],
    ];
    for (const [part, code, path] of invalid)
      expect((await errorsFor(withPart(part)))[0]).toMatchObject({ code, path });
    const badCall = withPart({ functionCall: { args: {} } });
    expect((await errorsFor(badCall, 'gemini-2.0-flash-001'))[0]?.code).toBe('invalid_function_call');
  });

  it('accepts functionCall parts for 2.5 and 3.x models (no documented restriction) and rejects media for Gemini 1.0 Pro', async () => {
    const call = {
      contents: [user('a'), { role: 'model', parts: [{ functionCall: { name: 'f', args: {} } }] }],
    };
    expect(await errorsFor(call, 'gemini-2.5-pro')).toEqual([]);
    expect(await errorsFor(call, 'gemini-3.5-flash')).toEqual([]);
    const image = {
      contents: [
        { role: 'user', parts: [{ inlineData: { mimeType: 'image/png', data: 'AA==' } }] },
        model('b'),
      ],
    };
    expect((await errorsFor(image, 'gemini-1.0-pro-002'))[0]?.code).toBe('unsupported_part');
  });

  it('takes text parts only in systemInstruction', async () => {
    expect(await errorsFor(example({ systemInstruction: { parts: [{ text: 'x' }] } }))).toEqual([]);
    const media = example({
      systemInstruction: { parts: [{ fileData: { mimeType: 'a', fileUri: 'gs://b/c' } }] },
    });
    expect((await errorsFor(media))[0]).toMatchObject({
      code: 'system_instruction_part',
      path: '/systemInstruction/parts/0/fileData',
    });
    expect((await errorsFor(example({ systemInstruction: 'be brief' })))[0]?.code).toBe(
      'invalid_system_instruction',
    );
  });

  it('accepts tools as a list of objects only', async () => {
    expect(await errorsFor(example({ tools: [] }))).toEqual([]);
    expect((await errorsFor(example({ tools: {} })))[0]?.code).toBe('invalid_tools');
    expect((await errorsFor(example({ tools: [1] })))[0]).toMatchObject({
      code: 'invalid_tools',
      path: '/tools/0',
    });
  });

  it('warns about unknown top-level fields without failing the example', async () => {
    const report = await validate(`${line(example({ metadata: { id: 1 } }))}\n`);
    expect(report.valid).toBe(true);
    expect(lineWarnings(report)[0]).toMatchObject({ code: 'unknown_field', path: '/metadata' });
  });

  it('collects every error of a line, not just the first', async () => {
    const errors = await errorsFor({ contents: [model(''), model('')] });
    expect(errors.map((error) => error.code)).toEqual([
      'first_role',
      'empty_text',
      'role_order',
      'empty_text',
    ]);
  });
});

describe('mistaken formats', () => {
  it('names the OpenAI chat format', async () => {
    const value = {
      messages: [
        { role: 'system', content: 's' },
        { role: 'user', content: 'a' },
        { role: 'assistant', content: 'b' },
      ],
    };
    const report = await validate(`${line(value)}\n`);
    expect(codes(report)).toEqual(['wrong_format']);
    expect(report.errors[0]?.message).toBe(
      'Line 1 is in the OpenAI chat format (`messages` with `assistant`); tunedrop expects Gemini `contents` (see README)',
    );
  });

  it('names the Gemini 1.0 messages format', async () => {
    const byAuthor = {
      messages: [
        { author: 'user', content: 'a' },
        { author: 'bot', content: 'b' },
      ],
    };
    const byRole = {
      messages: [
        { role: 'user', content: 'a' },
        { role: 'model', content: 'b' },
      ],
    };
    for (const value of [byAuthor, byRole]) {
      expect((await errorsFor(value))[0]?.message).toContain('Gemini 1.0 `messages` format');
    }
  });

  it('names the PaLM text format', async () => {
    expect((await errorsFor({ input_text: 'a', output_text: 'b' }))[0]?.message).toContain(
      'PaLM text format',
    );
  });
});

describe('inline data', () => {
  const withData = (data: string) => ({
    contents: [{ role: 'user', parts: [{ inlineData: { mimeType: 'image/png', data } }] }, model('b')],
  });

  it('accepts standard and URL-safe base64, with or without padding', async () => {
    for (const data of ['iVBORw0KGgo=', 'AA==', 'AA', 'AAA', '-_8=', 'QUJD']) {
      expect(await errorsFor(withData(data))).toEqual([]);
    }
  });

  it('rejects data that is not base64, with its path', async () => {
    for (const data of ['not base64!', 'AA=A', 'A', 'AAAAA', 'AA===', 'Zm9v\n']) {
      expect(await errorsFor(withData(data))).toEqual([
        expect.objectContaining({ code: 'invalid_base64', path: '/contents/0/parts/0/inlineData/data' }),
      ]);
    }
  });

  it('checks a large payload in place and says where it breaks', async () => {
    const data = `${'QUJD'.repeat(200_000)}*${'QUJD'.repeat(10)}`;
    const [issue] = await errorsFor(withData(data));
    expect(issue?.message).toContain('"*" at offset 800000');
  });
});

describe('proto3 JSON field names', () => {
  it('accepts every field in snake_case, as Google writes it in its own examples', async () => {
    const snake = {
      system_instruction: { role: 'system', parts: [{ text: 'Be brief.' }] },
      contents: [
        {
          role: 'user',
          parts: [
            { text: 'Look at this' },
            { inline_data: { mime_type: 'image/png', data: 'iVBORw0KGgo=' } },
            {
              file_data: { mime_type: 'video/mp4', file_uri: 'gs://b/v.mp4' },
              video_metadata: { start_offset: '1s', end_offset: '5s' },
              media_resolution: { level: 'MEDIA_RESOLUTION_LOW' },
            },
          ],
        },
        { role: 'model', parts: [{ function_call: { name: 'lookup', args: { user_id: 7 } } }] },
        { role: 'user', parts: [{ function_response: { name: 'lookup', response: { found_it: true } } }] },
        {
          role: 'model',
          parts: [
            { executable_code: { language: 'PYTHON', code: 'print(1)' } },
            { code_execution_result: { outcome: 'OUTCOME_OK', output: '1' } },
            { text: 'Done.', thought_signature: 'c2lnbmF0dXJl' },
          ],
        },
      ],
      tools: [
        {
          function_declarations: [
            { name: 'lookup', parameters: { type: 'OBJECT', properties: { user_id: { type: 'INTEGER' } } } },
          ],
        },
      ],
      generation_config: { media_resolution: 'MEDIA_RESOLUTION_LOW' },
    };
    const report = await validate(`${line(snake)}\n`);
    expect(report.errors).toEqual([]);
    expect(lineWarnings(report)).toEqual([]);
    expect(report.stats).toMatchObject({ validExamples: 1, mediaParts: 2 });
  });

  it('accepts the camelCase fields Vertex AI documents beside the data (thought, media resolution, tools)', async () => {
    const camel = {
      contents: [
        user('a'),
        {
          role: 'model',
          parts: [
            { text: 'thinking', thought: true, thoughtSignature: 'c2ln' },
            { text: 'b', mediaResolution: { level: 'MEDIA_RESOLUTION_HIGH' } },
          ],
        },
      ],
      tools: [{ functionDeclarations: [{ name: 'f', description: 'd' }] }],
      generationConfig: { mediaResolution: 'MEDIA_RESOLUTION_MEDIUM' },
    };
    const report = await validate(`${line(camel)}\n`);
    expect(report.errors).toEqual([]);
    expect(lineWarnings(report)).toEqual([]);
  });

  it('refuses a field given in both spellings in one object, naming both', async () => {
    const both = {
      contents: [user('a'), model('b')],
      systemInstruction: { parts: [{ text: 'x' }] },
      system_instruction: { parts: [{ text: 'y' }] },
    };
    const errors = (await validate(`${line(both)}\n`)).errors;
    expect(errors).toEqual([
      expect.objectContaining({ line: 1, code: 'duplicate_field', path: '/system_instruction' }),
    ]);
    expect(errors[0]?.message).toContain('`system_instruction` and `systemInstruction`');
    const part = {
      contents: [user('a'), { role: 'model', parts: [{ text: 'b', inline_data: {}, inlineData: {} }] }],
    };
    expect(codes(await validate(`${line(part)}\n`))).toContain('duplicate_field');
  });

  it('still names an unknown field as written, in either spelling', async () => {
    const unknown = { contents: [user('a'), { role: 'model', parts: [{ text: 'b', bogus_field: 1 }] }] };
    const errors = (await validate(`${line(unknown)}\n`)).errors;
    expect(errors).toEqual([
      expect.objectContaining({ code: 'unknown_part_field', path: '/contents/1/parts/0/bogus_field' }),
    ]);
  });

  it('leaves the keys of function arguments and schemas as the user wrote them', async () => {
    const call = {
      contents: [
        user('a'),
        { role: 'model', parts: [{ function_call: { name: 'f', args: { user_id: 1, userId: 2 } } }] },
      ],
    };
    expect((await validate(`${line(call)}\n`)).errors).toEqual([]);
  });
});
