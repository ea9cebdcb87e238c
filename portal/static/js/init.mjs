// Starts GOV.UK Frontend's components. An external module, not inline script, so that the
// Content-Security-Policy needs no 'unsafe-inline'.
import { initAll } from "./vendor/govuk-frontend.min.js";

initAll();
