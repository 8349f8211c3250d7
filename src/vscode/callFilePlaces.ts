import * as vscode from 'vscode';
import { allCalls, CallFile, CallFileError, jsonPlaces, parseCallFile, placeOf, visibleText } from '../core';
import type { JsonPlace } from '../core';
import { lineStarts, positionOf } from './textPositions';

/** A call file's text, checked, with where its values are: what the lens, the tests and the diagnostics share. */
export interface PlacedCallFile {
  calls: CallFile;
  /** The range of a value by its path in the file (`calls[2]`), or of the nearest enclosing one. */
  range(at: string): vscode.Range;
}

/** Parses a call file's text; a file that is not one at all throws its CallFileError. */
export function placedCallFile(file: string, text: string): PlacedCallFile {
  const calls = parseCallFile(file, text);
  const places = jsonPlaces(text);
  const lines = lineStarts(text);
  const toRange = (p: JsonPlace | undefined): vscode.Range =>
    p ? new vscode.Range(positionOf(lines, p.start), positionOf(lines, p.end)) : new vscode.Range(0, 0, 0, 0);
  return { calls, range: (at) => toRange(placeOf(places, at)) };
}

/** The diagnostics of a call file's text: one per bad call and per bad field of the file, or one for the whole file. */
export function callFileDiagnostics(file: string, text: string): vscode.Diagnostic[] {
  let placed: PlacedCallFile;
  try {
    placed = placedCallFile(file, text);
  } catch (error) {
    if (!(error instanceof CallFileError)) throw error;
    return [diagnostic(new vscode.Range(0, 0, 0, 0), error.message, file)];
  }
  const found = placed.calls.problems.map((p) => diagnostic(placed.range(p.at), p.message, file));
  for (const call of allCalls(placed.calls)) if (call.problem !== undefined) found.push(diagnostic(placed.range(call.problemAt ?? call.at), call.problem, file));
  return found;
}

function diagnostic(range: vscode.Range, message: string, file: string): vscode.Diagnostic {
  // the message names the file already: in the Problems view the file is the row above
  const text = message.startsWith(`${file}: `) ? message.slice(file.length + 2) : message;
  const d = new vscode.Diagnostic(range, visibleText(text, true), vscode.DiagnosticSeverity.Error);
  d.source = 'extism-calls';
  return d;
}
