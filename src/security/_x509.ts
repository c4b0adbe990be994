/**
 * The X.509 library, loaded after the `Reflect` metadata polyfill it needs (its dependency
 * injection container checks for it when the module is evaluated). Import X.509 types and
 * classes from here, never from `@peculiar/x509` directly, so the polyfill always comes first.
 * @module
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

export { x509 };
