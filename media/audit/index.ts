/** The Audit panel bundle's entry (dist/media/audit.js). */
import { startAuditView } from './main';

startAuditView(document.getElementById('app') ?? document.body.appendChild(document.createElement('main')));
