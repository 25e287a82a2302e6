/** The Review panel bundle's entry (dist/media/review.js). */
import { startReviewPanel } from './main';

startReviewPanel(document.getElementById('app') ?? document.body.appendChild(document.createElement('main')));
