# The module's root: loads the compiled cmdlets that sit beside the manifest. The manifest names this file
# and the views by the same relative paths in the source tree and in the staged package, so it is a valid
# manifest in both; in a source checkout there are no compiled cmdlets yet, and this says how to get them.
# .NET calls rather than cmdlets: Join-Path or Add-Type would autoload two more modules on every import.
$base = [IO.Path]::GetDirectoryName($PSScriptRoot)
$binary = [IO.Path]::Combine($base, 'WorkbenchAdmin.dll')
if (-not [IO.File]::Exists($binary)) {
    throw "WorkbenchAdmin is not built in '$base'. Build and stage it with 'pwsh ./build.ps1 -Task Package', then import the staged package: Import-Module ./out/WorkbenchAdmin"
}
# The public object model first, so its types resolve as type literals ([WorkbenchAdmin.Model.NodeCandidate]).
$null = [Reflection.Assembly]::LoadFrom([IO.Path]::Combine($base, 'WorkbenchAdmin.Model.dll'))
Import-Module -Name $binary
Export-ModuleMember -Cmdlet *
