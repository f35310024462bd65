# The source manifest's root, in a checkout only: there are no compiled cmdlets here yet. The staged package's
# manifest names WorkbenchAdmin.dll as its root instead (build.ps1 -Task Package), so this never ships.
throw "WorkbenchAdmin is not built in this checkout. Build and stage it with 'pwsh ./build.ps1 -Task Package', then import the staged package: Import-Module ./out/WorkbenchAdmin"
