#!/usr/bin/env node
// The built command. From a checkout, `npx -y pnpm@10 unifeed ...` runs the sources instead.
import process from 'node:process';
import { main } from '../dist/main.js';

process.exitCode = await main(process.argv.slice(2));
