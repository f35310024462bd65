#Requires -Version 7.4
#Requires -Modules Pester
<#
.SYNOPSIS
    Verifies a Workbench cluster in an automation pipeline and leaves a JUnit report for the CI system.
.DESCRIPTION
    Runs the module's Pester verification suite against the cluster this node belongs to, writes
    verification.xml (JUnit), and exits non-zero when any check failed, so the pipeline stops there.
.EXAMPLE
    pwsh ./examples/verify-cluster.ps1 -Spec ./examples/cluster.yaml -Tag security, cluster
#>
[CmdletBinding()]
param(
    [string] $Spec,
    [string[]] $Tag = @('Cluster'),
    [string] $Report = 'verification.xml'
)
$ErrorActionPreference = 'Stop'
Import-Module WorkbenchAdmin

$suite = Join-Path (Get-Module WorkbenchAdmin).ModuleBase 'tests' 'WorkbenchAdmin.Cluster.Tests.ps1'
$data = @{}
if ($Spec) { $data.Spec = (Resolve-Path $Spec).Path }

$config = New-PesterConfiguration
$config.Run.Container = New-PesterContainer -Path $suite -Data $data
$config.Run.PassThru = $true
$config.Filter.Tag = $Tag
$config.Output.Verbosity = 'Detailed'
$config.TestResult.Enabled = $true
$config.TestResult.OutputFormat = 'JUnitXml'
$config.TestResult.OutputPath = $Report

$result = Invoke-Pester -Configuration $config
"{0} passed, {1} failed, {2} skipped" -f $result.PassedCount, $result.FailedCount, $result.SkippedCount
exit $result.FailedCount
