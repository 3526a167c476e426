/** The dashboard's entry point (bundled by scripts/build-ui.mjs into dist/ui/app.js). */
import './components/clare-app.js';
