/** The Session view bundle's entry (dist/media/session.js). */
import { startSessionView } from './main';

startSessionView(document.getElementById('app') ?? document.body.appendChild(document.createElement('main')));
