// The public object model (WorkbenchAdmin.Model.dll) is used throughout the engine.
global using WorkbenchAdmin.Model;
