// "Start Training" above every *.advprop.json, where the researcher is already looking.
import * as vscode from 'vscode';

export class RunConfigCodeLens implements vscode.CodeLensProvider {
  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const top = new vscode.Range(0, 0, 0, 0);
    return [
      new vscode.CodeLens(top, { title: '$(play) Start Training', command: 'fastAdvprop.startTraining', arguments: [document.uri] }),
      new vscode.CodeLens(top, { title: '$(graph) Budget', command: 'fastAdvprop.openBudgetCalculator' }),
    ];
  }
}
