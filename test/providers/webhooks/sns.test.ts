// The SNS envelope: the documented string to sign, which URLs count as SNS's own, and the
// certificate cache (fed by a stand-in for the HTTPS fetch, since tests reach only loopback).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CertificateCache, isSnsUrl, snsMessage, stringToSign } from '../../../src/providers/webhooks/sns.ts';
import { notification, signedSns, snsCertificate } from '../../helpers/webhook-cases/ses.ts';

describe('SNS messages', () => {
  test('the string to sign lists the documented fields in order, Subject only when present', () => {
    const message = signedSns(notification({ a: 1 }));
    assert.equal(stringToSign(message),
      `Message\n{"a":1}\nMessageId\n${message.MessageId}\nTimestamp\n${message.Timestamp}\nTopicArn\n${message.TopicArn}\nType\nNotification\n`);
    assert.match(stringToSign({ ...message, Subject: 'Hello' }), /^Message\n\{"a":1\}\nMessageId\n[^\n]+\nSubject\nHello\nTimestamp\n/);
    const confirmation = { ...message, Type: 'SubscriptionConfirmation' as const, SubscribeURL: 'https://sns.eu-west-1.amazonaws.com/?x', Token: 't0k' };
    assert.equal(stringToSign(confirmation),
      `Message\n{"a":1}\nMessageId\n${message.MessageId}\nSubscribeURL\nhttps://sns.eu-west-1.amazonaws.com/?x\nTimestamp\n${message.Timestamp}\nToken\nt0k\nTopicArn\n${message.TopicArn}\nType\nSubscriptionConfirmation\n`);
  });

  test('an envelope missing a signed field, or of an unknown type, is not an SNS message', () => {
    const message = signedSns(notification({}));
    assert.notEqual(snsMessage(message), null);
    assert.equal(snsMessage({ ...message, Type: 'Other' }), null);
    assert.equal(snsMessage({ ...message, Timestamp: 1 }), null);
    assert.equal(snsMessage({ ...message, Type: 'SubscriptionConfirmation' }), null, 'a confirmation needs SubscribeURL and Token');
    assert.equal(snsMessage([message]), null);
  });

  test('only https URLs on sns.<region>.amazonaws.com(.cn) are SNS URLs', () => {
    for (const url of ['https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem', 'https://sns.cn-north-1.amazonaws.com.cn/x.pem', 'https://sns.us-gov-west-1.amazonaws.com/x.pem']) {
      assert.equal(isSnsUrl(url), true, url);
    }
    for (const url of [
      'http://sns.eu-west-1.amazonaws.com/x.pem', 'https://sns.eu-west-1.amazonaws.com.evil.com/x.pem', 'https://evil.com/sns.eu-west-1.amazonaws.com/x.pem',
      'https://sns.eu-west-1.amazonaws.com:8443/x.pem', 'https://user:pw@sns.eu-west-1.amazonaws.com/x.pem', 'https://s3.eu-west-1.amazonaws.com/x.pem',
      'https://sns..amazonaws.com/x.pem', 'not a url',
    ]) {
      assert.equal(isSnsUrl(url), false, url);
    }
  });
});

describe('SNS certificate cache', () => {
  test('fetches each URL once, forgets failures, and stays bounded', async () => {
    const fetched: string[] = [];
    let fail = true;
    const cache = new CertificateCache(async (url) => {
      fetched.push(url);
      if (url.endsWith('flaky.pem') && fail) throw new Error('timeout');
      return snsCertificate;
    }, 2);
    const a = await cache.key('https://sns.eu-west-1.amazonaws.com/a.pem');
    assert.equal(a.asymmetricKeyType, 'rsa');
    await cache.key('https://sns.eu-west-1.amazonaws.com/a.pem');
    assert.deepEqual(fetched, ['https://sns.eu-west-1.amazonaws.com/a.pem']);

    await assert.rejects(cache.key('https://sns.eu-west-1.amazonaws.com/flaky.pem'), /timeout/);
    fail = false;
    await cache.key('https://sns.eu-west-1.amazonaws.com/flaky.pem');
    assert.equal(fetched.filter((url) => url.endsWith('flaky.pem')).length, 2, 'a failed fetch is retried');

    await cache.key('https://sns.eu-west-1.amazonaws.com/c.pem');
    assert.equal(cache.size, 2);
    await cache.key('https://sns.eu-west-1.amazonaws.com/a.pem');
    assert.equal(fetched.filter((url) => url.endsWith('/a.pem')).length, 2, 'the oldest entry was evicted');
  });

  test('a body that is not a certificate rejects', async () => {
    const cache = new CertificateCache(async () => '<html>not a certificate</html>');
    await assert.rejects(cache.key('https://sns.eu-west-1.amazonaws.com/a.pem'));
  });
});
