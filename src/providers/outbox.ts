// The default provider: writes each email as an .eml file a newcomer can open. Written to a
// temporary name and renamed, so a reader never sees half a message.
import { mkdirSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildMime } from '../email/mime.ts';
import type { ProviderKind } from './provider.ts';
import { onlyFields, optionalString } from './settings.ts';

export interface OutboxSettings {
  provider: 'outbox';
  dir: string;
  base_url?: undefined;
}

export const outbox: ProviderKind<OutboxSettings> = {
  parse(raw, defaults) {
    onlyFields(raw, ['dir']);
    return { provider: 'outbox', dir: path.resolve(optionalString(raw, 'dir') ?? defaults.outboxDir) };
  },
  secrets: () => [],
  create(settings) {
    mkdirSync(settings.dir, { recursive: true });
    return {
      async send(message, context) {
        try {
          const file = path.join(settings.dir, `${message.id}.eml`);
          await writeFile(`${file}.tmp`, await buildMime(message, { messageIdDomain: context.messageIdDomain }));
          await rename(`${file}.tmp`, file);
          return { outcome: 'ok', providerMessageId: file };
        } catch (err) {
          const code = (err as { code?: string }).code ?? 'UNKNOWN';
          return { outcome: 'retryable', code: 'OUTBOX_WRITE_FAILED', message: `${code}: ${(err as Error).message}` };
        }
      },
    };
  },
};
