// The dashboard's entry: styles, live events, and the app shell.

import { render } from 'preact';
import { App } from './app.js';
import { live } from './live.js';
import './styles.css';

live.connect();
render(<App />, document.getElementById('app')!);
