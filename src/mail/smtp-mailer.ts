import nodemailer from 'nodemailer';
import type { Mailer, MailMessage } from '../service/ports/mailer.js';

export interface SmtpMailerOptions {
  /** smtp://user:password@host:587 or smtps://... (nodemailer connection URL). */
  url: string;
  from: string;
}

/** Sends mail through an SMTP relay with nodemailer. */
export function createSmtpMailer(options: SmtpMailerOptions): Mailer & { close(): void } {
  const transport = nodemailer.createTransport(options.url);
  return {
    async send(message: MailMessage): Promise<void> {
      await transport.sendMail({
        from: options.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
      });
    },
    close: () => transport.close(),
  };
}
