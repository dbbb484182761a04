import type { Transporter } from 'nodemailer';
import type { Mailer, MailMessage } from '../service/ports/mailer.js';

export interface SmtpMailerOptions {
  /** smtp://user:password@host:587 or smtps://... (nodemailer connection URL). */
  url: string;
  from: string;
}

/**
 * Sends mail through an SMTP relay with nodemailer. nodemailer is loaded, and the transport made, with
 * the first message: a process that sends no mail never holds it in memory.
 */
export function createSmtpMailer(options: SmtpMailerOptions): Mailer & { close(): void } {
  let transport: Promise<Transporter> | undefined;
  let made: Transporter | undefined;
  const opened = (): Promise<Transporter> => {
    transport ??= import('nodemailer').then(({ default: nodemailer }) => {
      made = nodemailer.createTransport(options.url);
      return made;
    });
    return transport;
  };
  return {
    async send(message: MailMessage): Promise<void> {
      await (await opened()).sendMail({
        from: options.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
      });
    },
    close: () => made?.close(),
  };
}
