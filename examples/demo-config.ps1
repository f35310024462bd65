#Requires -Version 7.4
<#
.SYNOPSIS
    A tour of the configuration cmdlets on a copy of a guide-built node's /etc/rstudio.
.DESCRIPTION
    Imports the packaged module, copies examples/etc-rstudio to a temporary configuration root, reads it,
    changes the balancer (first under -WhatIf, then for real) and shows that only the changed lines moved.
#>
[CmdletBinding()]
param(
    # The staged manifest (./build.ps1 -Task Package), or an installed module's name.
    [string] $ModulePath = (Get-ChildItem (Join-Path $PSScriptRoot '..' 'out' 'WorkbenchAdmin') -Recurse -Filter WorkbenchAdmin.psd1 -ErrorAction SilentlyContinue | Select-Object -First 1 -ExpandProperty FullName) ?? 'WorkbenchAdmin'
)
$ErrorActionPreference = 'Stop'
$InformationPreference = 'Continue'
Import-Module $ModulePath -Force

$root = Join-Path ([IO.Path]::GetTempPath()) "wbadmin-demo-$PID"
Copy-Item -Recurse (Join-Path $PSScriptRoot 'etc-rstudio') $root
try {
    Write-Information "== Get-WbConfig -ConfigRoot $root"
    Get-WbConfig -ConfigRoot $root | Format-Table -AutoSize

    Write-Information '== Get-WbBalancer'
    Get-WbBalancer -ConfigRoot $root | Format-List

    Write-Information '== Set-WbBalancer -Method user-hash -WhatIf'
    Set-WbBalancer -ConfigRoot $root -Method user-hash -WhatIf

    $before = Get-Content (Join-Path $root 'load-balancer')
    Write-Information '== Set-WbBalancer -Method user-hash -PassThru'
    Set-WbBalancer -ConfigRoot $root -Method user-hash -PassThru
    Compare-Object $before (Get-Content (Join-Path $root 'load-balancer'))
}
finally {
    Remove-Item -Recurse -Force $root
}
