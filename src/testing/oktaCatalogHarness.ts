// Temporary: moved to src/__testUtils__ (where Backstage's lint allows dev
// dependencies); this re-export goes once every test imports the new path.
// eslint-disable-next-line no-restricted-imports
export * from '../__testUtils__/oktaCatalogHarness';
