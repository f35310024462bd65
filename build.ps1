#Requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests, documents and packages the WorkbenchAdmin module.
.DESCRIPTION
    Tasks run in the order given:
      Build    dotnet build of the solution.
      Test     ./test.sh: every .NET test suite, then Pester where pwsh exists.
      Help     regenerates module/en-US/WorkbenchAdmin.dll-Help.xml from module/help/*.yml.
      Package  stages an importable, versioned module folder ready to publish: out/WorkbenchAdmin/<version>/.
      Pester   runs module/tests/*.Tests.ps1 against the staged package.
      Demo     runs the main job (examples/demo-cluster.ps1) against the staged package.
.EXAMPLE
    ./build.ps1 -Task Package, Demo
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Help', 'Package', 'Pester', 'Demo')]
    [string[]] $Task = @('Build'),
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',
    [string] $OutputPath = (Join-Path $PSScriptRoot 'out')
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$manifestPath = Join-Path $PSScriptRoot 'WorkbenchAdmin.psd1'
$version = (Import-PowerShellDataFile $manifestPath).ModuleVersion
$moduleRoot = Join-Path $OutputPath 'WorkbenchAdmin'
$staged = Join-Path $moduleRoot $version
$stagedManifest = Join-Path $staged 'WorkbenchAdmin.psd1'

function Invoke-Native([string] $File, [string[]] $Arguments) {
    & $File @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$File $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

foreach ($t in $Task) {
    Write-Host "==> $t" -ForegroundColor Cyan
    switch ($t) {
        'Build' {
            Invoke-Native dotnet @('build', (Join-Path $PSScriptRoot 'WorkbenchAdmin.sln'), '-c', $Configuration, '--nologo')
        }
        'Test' {
            Invoke-Native (Join-Path $PSScriptRoot 'test.sh') @()
        }
        'Help' {
            Invoke-Native dotnet @('build', (Join-Path $PSScriptRoot 'src/WorkbenchAdmin'), '-c', $Configuration, '--nologo')
            $dll = Join-Path $PSScriptRoot "src/WorkbenchAdmin/bin/$Configuration/net8.0/WorkbenchAdmin.dll"
            Invoke-Native dotnet @('run', '--project', (Join-Path $PSScriptRoot 'src/WorkbenchAdmin.ModuleTools'), '--',
                'help', '--assembly', $dll, '--source', (Join-Path $PSScriptRoot 'module/help'),
                '--out', (Join-Path $PSScriptRoot 'module/en-US/WorkbenchAdmin.dll-Help.xml'))
        }
        'Package' {
            # Layout: the cmdlet assembly, manifest, views and help at the top; the engine and every
            # library it uses in Dependencies/, loaded in the module's own context (see DependencyIsolation.cs).
            $publish = Join-Path $OutputPath 'publish'
            Remove-Item -Recurse -Force $publish, $staged -ErrorAction SilentlyContinue
            Invoke-Native dotnet @('publish', (Join-Path $PSScriptRoot 'src/WorkbenchAdmin'), '-c', $Configuration, '-o', $publish, '--nologo')
            $dependencies = Join-Path $staged 'Dependencies'
            New-Item -ItemType Directory -Force $dependencies | Out-Null
            Copy-Item $manifestPath, (Join-Path $PSScriptRoot 'LICENSE'), (Join-Path $PSScriptRoot 'CHANGELOG.md'), (Join-Path $PSScriptRoot 'README.md') $staged
            Copy-Item (Join-Path $publish 'WorkbenchAdmin.dll') $staged
            Get-ChildItem $publish -Filter *.dll | Where-Object Name -ne 'WorkbenchAdmin.dll' | Copy-Item -Destination $dependencies
            Copy-Item (Join-Path $PSScriptRoot 'module/*.ps1xml') $staged
            Copy-Item -Recurse (Join-Path $PSScriptRoot 'module/en-US') $staged
            Copy-Item -Recurse (Join-Path $PSScriptRoot 'module/tests') $staged
            Test-ModuleManifest $stagedManifest | Out-Null
            Write-Host "staged $staged (Publish-Module -Path $staged -Repository <name> publishes it)"
        }
        'Pester' {
            if (-not (Get-Module -ListAvailable Pester | Where-Object Version -ge '5.0')) {
                Write-Warning 'Pester 5 is not installed (Install-Module Pester); skipped module/tests.'
                break
            }
            $env:WORKBENCHADMIN_MODULE = $stagedManifest
            $config = New-PesterConfiguration
            $config.Run.Path = (Join-Path $PSScriptRoot 'module/tests')
            $config.Run.Exit = $true
            $config.Filter.ExcludeTag = @('Cluster')
            $config.Output.Verbosity = 'Detailed'
            Invoke-Pester -Configuration $config
        }
        'Demo' {
            & (Join-Path $PSScriptRoot 'examples/demo-cluster.ps1') -ModulePath $stagedManifest
        }
    }
}
