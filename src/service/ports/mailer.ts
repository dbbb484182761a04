/** An email to one person. Plain text; never a recovery code (STANDARDS req 9). */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

/** Sends email. SMTP in production (src/mail), a real in-process SMTP server in tests. */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
}
