import validator from 'validator';
import { isBase64 } from './base64.js';

describe('isBase64', () => {
  it('accepts what class-validator’s IsBase64 accepts, and refuses what it refuses', () => {
    const samples = [
      '',
      'QQ==',
      'QUI=',
      'QUJD',
      'QUJDRA==',
      '====',
      'QQ=',
      'QQ',
      'Q===',
      'QU=D',
      'QUJD\n',
      'QU-_',
      'QUJ*',
      'Q=Q=',
    ];
    for (const sample of samples)
      expect([sample, isBase64(sample)]).toEqual([sample, validator.isBase64(sample)]);
  });

  it('checks a multi-megabyte string without overflowing the stack', () => {
    const big = Buffer.alloc(8 * 1024 * 1024, 7).toString('base64');
    expect(isBase64(big)).toBe(true);
    expect(isBase64(`${big.slice(0, -4)}QQ*=`)).toBe(false);
  });
});
