// The image's entry point (`node /app/server.js`); everything it does is in main.ts.
import { main } from './main';

main(process);
