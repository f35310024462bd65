// The public object model (WorkbenchAdmin.Model.dll).
global using WorkbenchAdmin.Model;
global using WorkbenchAdmin.Testing;
