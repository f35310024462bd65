# The module's root: loads the compiled cmdlets that sit beside the manifest. The manifest names this file
# and the views by the same relative paths in the source tree and in the staged package, so it is a valid
# manifest in both; in a source checkout there are no compiled cmdlets yet, and this says how to get them.
$binary = Join-Path (Split-Path $PSScriptRoot -Parent) 'WorkbenchAdmin.dll'
if (-not (Test-Path -LiteralPath $binary -PathType Leaf)) {
    throw "WorkbenchAdmin is not built in '$(Split-Path $PSScriptRoot -Parent)'. Build and stage it with 'pwsh ./build.ps1 -Task Package', then import the staged package: Import-Module ./out/WorkbenchAdmin"
}
# The public object model first, so its types resolve as type literals ([WorkbenchAdmin.Model.NodeCandidate]).
Add-Type -LiteralPath (Join-Path (Split-Path $binary -Parent) 'WorkbenchAdmin.Model.dll')
Import-Module -Name $binary
Export-ModuleMember -Cmdlet *
