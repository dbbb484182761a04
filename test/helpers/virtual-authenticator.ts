import type { BrowserContext, CDPSession, Page } from 'playwright-core';

export type VirtualAuthenticatorKind = 'internal' | 'usb';

export interface VirtualCredential {
  credentialId: string;
  isResidentCredential: boolean;
  rpId?: string;
  privateKey: string;
  userHandle?: string;
  signCount: number;
}

/**
 * Chromium's virtual authenticator through the DevTools protocol (WebAuthn domain): `internal` is a
 * platform authenticator with resident keys and user verification (a passkey on this device); `usb` a
 * roaming security key without them. Presence is simulated, so ceremonies complete at once.
 */
export class VirtualAuthenticator {
  private constructor(
    readonly cdp: CDPSession,
    readonly authenticatorId: string,
  ) {}

  static async attach(
    context: BrowserContext,
    page: Page,
    kind: VirtualAuthenticatorKind,
  ): Promise<VirtualAuthenticator> {
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable', { enableUI: false });
    const platform = kind === 'internal';
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: kind,
        hasResidentKey: platform,
        hasUserVerification: platform,
        isUserVerified: platform,
        automaticPresenceSimulation: true,
      },
    });
    return new VirtualAuthenticator(cdp, authenticatorId);
  }

  async credentials(): Promise<VirtualCredential[]> {
    return (await this.cdp.send('WebAuthn.getCredentials', { authenticatorId: this.authenticatorId }))
      .credentials;
  }

  /** Puts the key's signature counter back to `signCount`, as a cloned key would report it. */
  async rollBackCounter(signCount: number): Promise<void> {
    for (const credential of await this.credentials()) {
      await this.cdp.send('WebAuthn.removeCredential', {
        authenticatorId: this.authenticatorId,
        credentialId: credential.credentialId,
      });
      await this.cdp.send('WebAuthn.addCredential', {
        authenticatorId: this.authenticatorId,
        credential: { ...credential, signCount },
      });
    }
  }

  /**
   * The person declines the fingerprint or PIN prompt (or presses Cancel): a ceremony that requires user
   * verification ends in the page with NotAllowedError.
   */
  async declineVerification(): Promise<void> {
    await this.cdp.send('WebAuthn.setUserVerified', {
      authenticatorId: this.authenticatorId,
      isUserVerified: false,
    });
  }

  async remove(): Promise<void> {
    await this.cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: this.authenticatorId });
  }
}
