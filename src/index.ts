/**
 * A Backstage catalog module that ingests Okta users and groups as User and
 * Group entities.
 *
 * @packageDocumentation
 */
export { catalogModuleOktaOrgEntityProvider as default } from './module/catalogModuleOktaOrgEntityProvider';
