/** DESIGN.md section 9: 0 ok, 1 findings when --fail-on asks for it, 2 usage or input errors. */
export const EXIT_OK = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_ERROR = 2;
