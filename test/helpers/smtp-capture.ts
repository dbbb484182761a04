import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { createSmtpMailer } from '../../src/mail/smtp-mailer.js';
import type { Mailer } from '../../src/service/ports/mailer.js';

export interface CapturedMail {
  to: string;
  subject: string;
  text: string;
}

/** A real SMTP server in this process, and a real nodemailer transport pointed at it. */
export interface SmtpCapture {
  messages: CapturedMail[];
  mailer: Mailer;
  url: string;
  close(): Promise<void>;
}

export async function startSmtpCapture(): Promise<SmtpCapture> {
  const messages: CapturedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          const to = Array.isArray(parsed.to) ? parsed.to[0]?.text : parsed.to?.text;
          messages.push({ to: to ?? '', subject: parsed.subject ?? '', text: parsed.text ?? '' });
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  const url = `smtp://127.0.0.1:${port}`;
  const mailer = createSmtpMailer({ url, from: 'SpareKey <no-reply@sparekey.test>' });
  return {
    messages,
    mailer,
    url,
    close: async () => {
      mailer.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The token of the unlock link in an email's text (`/unlock?token=…`); throws when there is none. */
export function unlockTokenIn(text: string | undefined): string {
  const token = text?.match(/\/unlock\?token=([A-Za-z0-9_-]+)/)?.[1];
  if (!token) throw new Error(`no unlock link in ${text}`);
  return token;
}
