import type { Provider } from 'oidc-provider';
import type { UseCases } from '../service/use-cases.js';
import { createOidcProvider } from './provider.js';

/** How often an instance looks for a key rotation made elsewhere (the CLI, another instance). */
export const KEY_CHECK_INTERVAL_MS = 30_000;

/**
 * The provider of this process, built on first use and rebuilt when the published signing keys change,
 * so a `sparekey oidc rotate-keys` reaches every running instance within KEY_CHECK_INTERVAL_MS without a
 * restart. Building is cheap: all state is in the store.
 */
export function providerHolder(
  useCases: UseCases,
  options: {
    trustProxy: boolean;
    keyCheckIntervalMs?: number;
    onBuilt?: (provider: Provider) => void;
  },
): { current(): Promise<Provider | undefined> } {
  let built: { provider: Provider; version: string; checkedAt: number } | undefined;
  let building: Promise<Provider | undefined> | undefined;
  const interval = options.keyCheckIntervalMs ?? KEY_CHECK_INTERVAL_MS;

  const build = async (): Promise<Provider | undefined> => {
    const publicUrl = useCases.options.publicUrl;
    // Without a public address there is no issuer to name: the provider stays off.
    if (!publicUrl) return undefined;
    const now = Date.now();
    if (built && now - built.checkedAt < interval) return built.provider;
    const version = await useCases.signingKeyVersion();
    if (built && built.version === version) {
      built.checkedAt = now;
      return built.provider;
    }
    const provider = await createOidcProvider(useCases, { publicUrl, trustProxy: options.trustProxy });
    options.onBuilt?.(provider);
    // The keys as loaded (a first start generates one): read again so the version names them.
    built = { provider, version: await useCases.signingKeyVersion(), checkedAt: now };
    return provider;
  };

  return {
    current: () => {
      building ??= build().finally(() => {
        building = undefined;
      });
      return building;
    },
  };
}
