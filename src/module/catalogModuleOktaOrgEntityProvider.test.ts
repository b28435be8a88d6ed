import { startTestBackend } from '@backstage/backend-test-utils';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import { catalogModuleOktaOrgEntityProvider } from './catalogModuleOktaOrgEntityProvider';

describe('catalogModuleOktaOrgEntityProvider', () => {
  it('starts inside a backend with the catalog plugin', async () => {
    const backend = await startTestBackend({
      features: [
        catalogPlugin,
        catalogModuleOktaOrgEntityProvider,
      ],
    });
    const response = await fetch(
      `http://localhost:${backend.server.port()}/api/catalog/entities`,
    );
    expect(response.status).toBe(200);
    await backend.stop();
  });
});
